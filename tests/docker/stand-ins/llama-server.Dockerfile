# Stand-in for ghcr.io/ggml-org/llama.cpp:server: llama-server built from the llama.cpp source
# that node-llama-cpp ships (its git bundle is the build context), the same target and options
# as scripts/llama-server.sh, on the debootstrap base. Like the official image: the binary in
# /app, llama-server as the entrypoint, curl for the healthcheck.
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cmake g++ make git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ARG LLAMA_COMMIT
COPY gitRelease.bundle /src/llama.bundle
RUN git clone --quiet --no-checkout /src/llama.bundle /src/llama.cpp \
 && git -C /src/llama.cpp -c advice.detachedHead=false checkout --quiet "$LLAMA_COMMIT"
# nice: the build shares the machine's cores with everything else running.
RUN curl_option=$(grep -q 'option(LLAMA_CURL' /src/llama.cpp/CMakeLists.txt && echo -DLLAMA_CURL=OFF || true) \
 && cmake -S /src/llama.cpp -B /src/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_UI=OFF \
      -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DBUILD_SHARED_LIBS=OFF $curl_option >/dev/null \
 && nice -n 10 cmake --build /src/build --target llama-server -j"$(nproc)" >/src/build.log 2>&1 \
      || { grep -E 'error|Error' /src/build.log | tail -n 20; exit 1; }

FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/llama-server /app/llama-server
WORKDIR /app
ENV LLAMA_ARG_HOST=0.0.0.0
HEALTHCHECK CMD ["curl", "-f", "http://localhost:8080/health"]
ENTRYPOINT ["/app/llama-server"]
