# ecsrender in a container, for `docker run` or to copy the binary into a
# custom CodeBuild image (this image has no shell, so it cannot be a
# CodeBuild build image by itself; see README.md, "Install").
#
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT="$(git rev-parse HEAD)" -t ecsrender .
#   docker run --rm -v "$PWD:/work" -w /work ecsrender render --offline --template taskdef.json ...
#
# The binary is built as .ci/release builds it (static, -trimpath, the
# version and commit stamped), for the platform being built: buildx
# --platform linux/amd64,linux/arm64 cross-compiles on the build machine
# instead of emulating it.

FROM --platform=$BUILDPLATFORM golang:1.26.8 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -tags urfave_cli_no_docs \
      -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/ecsrender .

# distroless/static: CA certificates (for AWS over HTTPS), tzdata and a
# nonroot user, nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ecsrender /usr/local/bin/ecsrender
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/ecsrender"]
CMD ["--help"]
