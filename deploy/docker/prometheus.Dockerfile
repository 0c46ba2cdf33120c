# Prometheus from Debian 12's package, for docker-compose.yml: scrapes every numtrust process
# (deploy/prometheus/prometheus.yml, mounted at run time with the alert rules). Built by
# deploy/docker/images.sh:
#   docker build -f deploy/docker/prometheus.Dockerfile -t numtrust/prometheus:local .
ARG BASE_IMAGE=debian:12-slim
FROM ${BASE_IMAGE}
# moment-timezone's per-zone data (200 MB) is left out: the web UI loads the bundled
# moment-timezone-with-data files
RUN printf '%s\n' 'path-exclude /usr/share/javascript/moment-timezone/data/*' \
      > /etc/dpkg/dpkg.cfg.d/numtrust-slim-js \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log \
 && mkdir -p /prometheus && chown prometheus:prometheus /prometheus
COPY deploy/docker/healthcheck.sh /usr/local/bin/nt-healthcheck
USER prometheus
WORKDIR /prometheus
EXPOSE 9090
VOLUME /prometheus
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", \
     "--web.listen-address=:9090", "--web.console.libraries=/usr/share/prometheus/console_libraries", \
     "--web.console.templates=/usr/share/prometheus/consoles"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=6 \
  CMD ["nt-healthcheck", "9090", "/-/healthy"]
