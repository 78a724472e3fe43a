# labwatch in a container. Redis runs beside it (LABWATCH_REDIS_URL); the config (and the secret files it
# names) is mounted at /etc/labwatch. docker-compose.yml runs both, with the devices SMART and ZFS need.
#   docker build -t labwatch .
#   docker run -d -v /etc/labwatch:/etc/labwatch:ro -e LABWATCH_REDIS_URL=redis://<redis host>:6379 -p 127.0.0.1:9877:9877 labwatch
# test/packaging/image-layout.test.ts builds the runtime stage's file layout from the COPY lines below
# and runs labwatch from it: keep to the COPY forms it reads (flags --from/--chown/--chmod/--link,
# plain paths, no wildcards), or teach it the new one.

# --- build: every dependency, the compiled daemon (dist/) and the dashboard bundle (dist/web) ---
FROM node:22-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js ./scripts/
COPY bin ./bin
COPY src ./src
# dist/.built records the sources the build came from; the runtime stage has no src/, so
# bin/labwatch.js (bin/built.js) runs dist/ without looking for sources or tsx.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: Node, smartctl and zpool, and only what `labwatch` needs to run ---
FROM node:22-bookworm-slim
# smartmontools for the smart collector; zfsutils-linux (Debian's contrib component) for zfs. Without
# them both collectors switch themselves off ("smartctl not found"). zfsutils-linux is 2.1 on bookworm:
# zpool talks to the host's kernel module through /dev/zfs, so a host on ZFS 2.2/2.3 (Proxmox VE 8,
# TrueNAS) is best matched from bookworm-backports (2.3); labwatch reads zpool's text when it has no -j.
# setcap: Docker gives a non-root user none of the capabilities added with cap_add (no ambient
# capabilities), so smartctl carries CAP_SYS_RAWIO itself (ATA passthrough to /dev/sd*). The kernel then
# starts smartctl only where that capability is in the container's bounding set: compose adds
# SYS_RAWIO; a bare `docker run` needs --cap-add SYS_RAWIO, or watch.smart.enabled: false.
# policy-rc.d: zfsutils-linux's postinst would start zfs-import/zfs-mount; nothing starts in a build.
RUN sed -i 's/^Components: main$/Components: main contrib/' /etc/apt/sources.list.d/debian.sources \
 && grep -q '^Components: main contrib$' /etc/apt/sources.list.d/debian.sources \
 && printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends smartmontools zfsutils-linux libcap2-bin \
 && setcap cap_sys_rawio+ep /usr/sbin/smartctl \
 && rm -f /usr/sbin/policy-rc.d \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o node -g root -m 0770 /var/lib/labwatch
# LABWATCH_LISTEN wins over http.listen: in a container labwatch listens on every interface (compose
# publishes the port on the host's loopback). Redis: LABWATCH_REDIS_URL (compose sets it) or redis.url.
# STATE_DIRECTORY: the audit trail's folder (a volume; group root so a `user: root` run may write it too).
ENV NODE_ENV=production \
    LABWATCH_LISTEN=0.0.0.0:9877 \
    STATE_DIRECTORY=/var/lib/labwatch
WORKDIR /opt/labwatch
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY --from=build /build/bin ./bin
COPY rules ./rules
COPY demo ./demo
COPY config/labwatch.example.yaml ./config/
# Not root. What the collectors need from the host, compose gives: the disks' devices and the `disk`
# group (group_add) plus CAP_SYS_RAWIO for smartctl (CAP_SYS_ADMIN too for NVMe, see compose), and
# /dev/zfs for zpool (read-only queries need no capability).
USER node
VOLUME /var/lib/labwatch
EXPOSE 9877
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LABWATCH_LISTEN||':9877').split(':').pop()+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/labwatch.js"]
CMD ["run", "--config", "/etc/labwatch/labwatch.yaml"]
