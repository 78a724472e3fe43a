/** htm bound to preact: components written as tagged templates, no JSX toolchain. Values are escaped (text, never HTML). */
import { h, type VNode } from 'preact';
import htm from 'htm';

export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
