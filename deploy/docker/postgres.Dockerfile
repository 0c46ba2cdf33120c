# PostgreSQL 15 from Debian 12's package, for docker-compose.yml (where no public postgres image
# can be pulled, or to run the same PostgreSQL as deploy/local/stack.sh). Built by
# deploy/docker/images.sh:  docker build -f deploy/docker/postgres.Dockerfile -t numtrust/postgres:local .
# The entrypoint follows the official image's conventions (POSTGRES_PASSWORD[_FILE],
# POSTGRES_USER, PGDATA, /docker-entrypoint-initdb.d/*.sh run once on an empty data directory,
# extra `postgres -c ...` arguments), so the compose file works with either image.
ARG BASE_IMAGE=debian:12-slim
FROM ${BASE_IMAGE}
# No cluster from the package's postinst: the entrypoint makes one in the volume. No JIT:
# its LLVM (libLLVM, libz3, bitcode: 150 MB of the image) is left out and jit = off.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \
 && printf '%s\n' 'path-exclude /usr/lib/x86_64-linux-gnu/libLLVM-*' \
      'path-exclude /usr/lib/x86_64-linux-gnu/libz3.so*' \
      'path-exclude /usr/lib/postgresql/15/lib/bitcode/*' \
      'path-exclude /usr/lib/postgresql/15/lib/llvmjit*' > /etc/dpkg/dpkg.cfg.d/numtrust-nojit \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log \
      /usr/share/postgresql/15/man \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 0700 /var/lib/postgresql/data
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/nt-postgres
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
ENTRYPOINT ["nt-postgres"]
CMD ["postgres"]
# over TCP, so the init-time server (unix socket only) does not count as ready
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=20 \
  CMD ["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"]
