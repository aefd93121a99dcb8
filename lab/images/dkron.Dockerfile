# Dkron around a binary built on this machine. The base is our own debootstrap image, because no
# container registry is reachable here; it gives jobs a real shell, time zones and CA certificates.
FROM hacron/dkron-base:bookworm
ARG VERSION
LABEL org.opencontainers.image.title="dkron" \
      org.opencontainers.image.version="${VERSION}"
COPY dkron /usr/local/bin/dkron
# The official images set no data dir; ours uses the one the role mounts.
RUN mkdir -p /var/lib/dkron /etc/dkron
EXPOSE 8080 8946/tcp 8946/udp 6868
ENTRYPOINT ["/usr/local/bin/dkron"]
CMD ["agent", "--config", "/etc/dkron/dkron.yml"]
