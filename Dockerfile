# idsync: multi-stage build → a small non-root image running `idsync serve`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# no scripts: the sources are not copied yet (the prepare script's build runs below, explicitly)
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY migrations migrations
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# NODE_ENV=production: no demo account and no token printed at start (the first start needs
# IDSYNC_ADMIN_TOKEN); set IDSYNC_PUBLIC_URL at `docker run` (README, Container)
ENV NODE_ENV=production PORT=8080 IDSYNC_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
# the image's node user is uid 1000, gid 1000: a named volume inherits this owner, a host directory needs it
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/idsync.js"]
CMD ["serve"]
