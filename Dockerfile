# The ttlp host. Build: docker build -t ttlp .   Run: see docker-compose.yml.

# Dependencies, with the toolchain native modules need to compile.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY host/package.json host/
COPY overlays/package.json overlays/
RUN npm ci --omit=dev --no-audit --no-fund

# The settings page and overlays (Svelte, built with Vite).
FROM node:20-bookworm-slim AS overlays
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY host/package.json host/
COPY overlays/package.json overlays/
RUN npm ci --workspace @ttlp/overlays --include-workspace-root=false --ignore-scripts --no-audit --no-fund
COPY overlays ./overlays
RUN npm run build --workspace @ttlp/overlays

# The runtime image: sources run through tsx (no build step), as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY sdk ./sdk
COPY host ./host
COPY drizzle ./drizzle
COPY plugins ./plugins
COPY --from=overlays /app/overlays/dist ./overlays/dist
COPY docs/contracts ./docs/contracts
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
ENTRYPOINT ["node", "--no-node-snapshot", "host/bin/ttlp.js"]
CMD ["start"]
