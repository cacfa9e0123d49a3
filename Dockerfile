# culprit in a container: one static binary (ship, analyze, migrate, serve,
# explain). Build: docker build -t culprit .
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first: they change less often than the code, so the layer
# is reused between builds.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/culprit ./cmd/culprit

# distroless/static: no shell, no package manager, CA certificates and tzdata
# included. It runs as root so that `culprit ship` can read the logs other
# containers (or the host) write with their own owners; run serve and
# analyze with --user if you prefer.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/culprit /usr/local/bin/culprit
ENTRYPOINT ["/usr/local/bin/culprit"]
CMD ["--help"]
