// Command gendockerfiles writes a corpus of typical Dockerfiles for the
// Dockerfile-audit benchmark: single- and multi-stage builds for Go,
// Python, Node, Java and C services on Debian, Alpine and distroless bases,
// with the package installs, downloads, users and health checks real files
// have (and the mistakes they often make). The corpus is deterministic for a
// given seed.
//
//	go run ./bench/gendockerfiles -n 1000 -o /tmp/dockvet-corpus
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	n := flag.Int("n", 1000, "number of Dockerfiles")
	out := flag.String("o", "", "output directory (created)")
	seed := flag.Uint64("seed", 1, "random seed")
	shared := flag.Bool("shared", false, "write every Dockerfile into one directory (svcNNNN.Dockerfile), so that they share one build context")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gendockerfiles: -o DIR is required")
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(*seed, 42))
	total := 0
	for i := range *n {
		dir, name := filepath.Join(*out, fmt.Sprintf("svc%04d", i)), "Dockerfile"
		if *shared {
			dir, name = *out, fmt.Sprintf("svc%04d.Dockerfile", i)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gendockerfiles:", err)
			os.Exit(2)
		}
		src := templates[i%len(templates)](r)
		total += strings.Count(src, "\n")
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gendockerfiles:", err)
			os.Exit(2)
		}
	}
	fmt.Printf("wrote %d Dockerfiles (%d lines, %.1f lines each) to %s\n", *n, total, float64(total)/float64(*n), *out)
}

func pick(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

func digest(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for range 64 {
		b.WriteByte(hex[r.IntN(16)])
	}
	return "sha256:" + b.String()
}

var templates = []func(r *rand.Rand) string{
	func(r *rand.Rand) string { // Go multi-stage
		return fmt.Sprintf(`# syntax=docker/dockerfile:1
FROM golang:%s AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/%s ./cmd/%s

FROM %s
COPY --from=build /out/%s /usr/local/bin/%s
USER %s
EXPOSE %d
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/%s", "health"]
ENTRYPOINT ["/usr/local/bin/%s"]
`, pick(r, "1.26", "1.25-alpine", "1.26-alpine@"+digest(r)), "svc", "svc",
			pick(r, "gcr.io/distroless/static-debian12:nonroot", "alpine:3.22", "scratch", "gcr.io/distroless/base-debian12@"+digest(r)),
			"svc", "svc", pick(r, "65532:65532", "nonroot", "10001"), 8000+r.IntN(100), "svc", "svc")
	},
	func(r *rand.Rand) string { // Python on Debian slim
		return fmt.Sprintf(`FROM python:%s
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN apt-get update \
    && apt-get install -y %s libpq-dev gcc curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install %s -r requirements.txt
COPY . .
RUN useradd --create-home appuser && chown -R appuser /app
USER appuser
EXPOSE %d
CMD %s
`, pick(r, "3.12-slim", "3.11", "3.13-slim-bookworm", "3.9-slim-buster"), pick(r, "--no-install-recommends", ""),
			pick(r, "--no-cache-dir", ""), 5000+r.IntN(1000), pick(r, `["gunicorn", "-b", "0.0.0.0:8000", "app:app"]`, "python app.py"))
	},
	func(r *rand.Rand) string { // Node
		return fmt.Sprintf(`FROM node:%s AS deps
WORKDIR /usr/src/app
COPY package.json package-lock.json ./
RUN %s
FROM node:%s
ENV NODE_ENV=production
WORKDIR /usr/src/app
COPY --from=deps /usr/src/app/node_modules ./node_modules
COPY . .
RUN chown -R node:node /usr/src/app
USER node
EXPOSE 3000
HEALTHCHECK CMD node healthcheck.js
CMD ["node", "server.js"]
`, pick(r, "22-alpine", "20", "18-bullseye-slim"), pick(r, "npm ci --omit=dev", "npm install", "npm ci && npm cache clean --force"), pick(r, "22-alpine", "22-slim", "20-alpine"))
	},
	func(r *rand.Rand) string { // Ubuntu kitchen sink
		return fmt.Sprintf(`FROM ubuntu:%s
MAINTAINER ops@example.com
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update
RUN apt-get install -y build-essential git wget curl %s
RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
RUN apt-get install -y nodejs
RUN wget https://github.com/example/tool/releases/download/v1.%d.0/tool.tar.gz && tar xzf tool.tar.gz -C /usr/local/bin
ADD config /etc/app/
WORKDIR /opt/app
COPY . .
RUN make && make install
EXPOSE 22 80
CMD ./start.sh
`, pick(r, "22.04", "20.04", "latest", "24.04"), pick(r, "python3", "openjdk-17-jdk", "vim sudo"), r.IntN(20))
	},
	func(r *rand.Rand) string { // Alpine C service
		return fmt.Sprintf(`FROM alpine:%s AS build
RUN apk add --no-cache build-base cmake linux-headers
WORKDIR /src
COPY . .
RUN cmake -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)"
FROM alpine:%s
RUN apk add %s ca-certificates libstdc++ \
    && addgroup -S app && adduser -S -G app app
COPY --from=build /src/build/server /usr/local/bin/server
USER app
EXPOSE %d
ENTRYPOINT ["/usr/local/bin/server"]
`, pick(r, "3.22", "3.20", "3.19"), pick(r, "3.22", "3.21"), pick(r, "--no-cache", ""), 9000+r.IntN(100))
	},
	func(r *rand.Rand) string { // Java
		return fmt.Sprintf(`FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
COPY pom.xml .
RUN --mount=type=cache,target=/root/.m2 mvn -B dependency:go-offline
COPY src ./src
RUN --mount=type=cache,target=/root/.m2 mvn -B package -DskipTests
FROM eclipse-temurin:%s
RUN groupadd -r spring && useradd -r -g spring spring
USER spring:spring
COPY --from=build /build/target/*.jar /app/app.jar
EXPOSE 8080
HEALTHCHECK --interval=30s CMD wget -qO- http://localhost:8080/actuator/health || exit 1
ENTRYPOINT ["java", "-jar", "/app/app.jar"]
`, pick(r, "21-jre", "21-jdk", "17-jre-alpine"))
	},
	func(r *rand.Rand) string { // PHP / nginx with secrets mistakes
		return fmt.Sprintf(`FROM php:%s-fpm
ENV APP_ENV=prod \
    DB_HOST=db \
    DB_PASSWORD=%s
RUN docker-php-ext-install pdo pdo_mysql
RUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin --filename=composer
COPY . /var/www/html
RUN chmod -R 777 /var/www/html/storage
RUN composer install --no-dev --optimize-autoloader
EXPOSE 9000
`, pick(r, "8.3", "8.1", "7.4"), pick(r, "${DB_PASSWORD}", "changeme", "pr0d-S3cret-2024"))
	},
	func(r *rand.Rand) string { // Rust
		return fmt.Sprintf(`FROM rust:%s AS builder
WORKDIR /usr/src/app
COPY . .
RUN cargo install --locked --path .
FROM debian:%s
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=builder /usr/local/cargo/bin/app /usr/local/bin/app
USER 1000
CMD ["app"]
`, pick(r, "1.82", "1.85-slim"), pick(r, "bookworm-slim", "bullseye-slim", "trixie-slim"))
	},
}
