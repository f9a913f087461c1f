# syntax=docker/dockerfile:1
# The WhatsApp SaaS backend. Multi-stage: build with dev dependencies, run with production ones
# only, as the unprivileged `node` user. The base image is pinned to the exact Node.js 24 LTS
# release that `npm run test:node24` and CI test on (.ci/node24/package.json): bump both together.
#   docker build -t whatsapp-saas-backend .
#   docker run --env-file .env -p 127.0.0.1:3000:3000 whatsapp-saas-backend
# (with DATABASE_URL and REDIS_URL reachable from the container)

FROM node:24.22.3-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.build.json: src/ -> dist/, so the entry is dist/service/main.js.
RUN npm run build && npm prune --omit=dev

FROM node:24.22.3-trixie-slim AS runtime
# HOST: a container must listen on its own interface to be reachable (the default is 127.0.0.1).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    USE_AWS_SECRETS=false
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Applied at start-up by the service (node-pg-migrate); found two levels above dist/service/.
COPY migrations ./migrations
COPY .env.example ./.env.example
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.status<500?0:1),()=>process.exit(1))"]
# SIGTERM from `docker stop` reaches node directly (exec form): it drains and exits 0.
CMD ["node", "dist/service/main.js"]
