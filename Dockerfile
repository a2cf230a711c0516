# huiyin in a container: the one binary (cgo, for gojieba) on Debian slim,
# with the jieba dictionaries unpacked at build time and the time zone data
# built in. PostgreSQL with pgvector runs beside it (docker-compose.yml).
#
#   docker build -t huiyin .
#   docker run --rm -e DATABASE_URL=postgresql://… -p 8080:8080 huiyin          # serve
#   docker run --rm -e DATABASE_URL=postgresql://… huiyin ingest                 # load the knowledge base
#   echo '密码' | docker run -i --rm -e DATABASE_URL=… huiyin user add admin --role admin

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -trimpath keeps build paths out of the binary; the dictionaries are
# unpacked by a first run so that containers start without writing them.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/huiyin ./cmd/huiyin \
 && HUIYIN_CACHE_DIR=/out/cache /out/huiyin triage "3栋电梯坏了" >/dev/null

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin huiyin
COPY --from=build /out/huiyin /usr/local/bin/huiyin
COPY --from=build --chown=huiyin:huiyin /out/cache /var/cache/huiyin
ENV HUIYIN_CACHE_DIR=/var/cache/huiyin \
    HUIYIN_ADDR=:8080 \
    HUIYIN_LOG_LEVEL=info
USER huiyin
EXPOSE 8080
ENTRYPOINT ["huiyin"]
CMD ["serve"]
