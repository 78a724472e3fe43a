import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerChecker } from '../../src/http/auth.ts';
import { isLoopback, parseListen } from '../../src/http/server.ts';

test('listen addresses parse for IPv4, names and bracketed IPv6', () => {
  assert.deepEqual(parseListen('127.0.0.1:9877'), { host: '127.0.0.1', port: 9877 });
  assert.deepEqual(parseListen('[::1]:9877'), { host: '::1', port: 9877 });
  assert.deepEqual(parseListen('localhost:80'), { host: 'localhost', port: 80 });
});

test('only loopback addresses count as private (a token is wanted everywhere else)', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '192.168.1.10', 'labwatch.lan']) assert.equal(isLoopback(h), false, h);
});

test('the bearer check accepts exactly the configured token', () => {
  const check = bearerChecker('s3cret');
  assert.equal(check('Bearer s3cret'), true);
  assert.equal(check('bearer s3cret'), true, 'the scheme is case-insensitive (RFC 7235)');
  assert.equal(check('Bearer s3cret2'), false);
  assert.equal(check('Basic czNjcmV0'), false);
  assert.equal(check(undefined), false);
  assert.equal(bearerChecker(undefined)(undefined), true, 'no token configured: open (loopback by default)');
});
