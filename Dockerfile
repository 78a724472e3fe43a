# labwatch in a container. Redis is separate (LABWATCH_REDIS_URL); the config and secret files
# are mounted at /etc/labwatch; set http.listen to "0.0.0.0:9877" there so the port is reachable.
#   docker build -t labwatch .
#   docker run -v /etc/labwatch:/etc/labwatch:ro -e LABWATCH_REDIS_URL=redis://redis:6379 -p 9877:9877 labwatch
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/labwatch
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY config ./config
USER node
EXPOSE 9877
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:9877/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/labwatch.js"]
CMD ["run", "--config", "/etc/labwatch/labwatch.yaml"]
