# Apache Kafka (KRaft) from the broker's jars that deploy/local/install-deps.sh fetches through
# Maven (deploy/local/kafka/pom.xml), run the way deploy/local/stack.sh runs them:
# `java -cp 'libs/*' kafka.Kafka server.properties`. Built by deploy/docker/images.sh, which
# stages the jars in .cache/docker/kafka-libs first:
#   docker build -f deploy/docker/kafka.Dockerfile -t numtrust/kafka:local .
# Configuration follows the apache/kafka image's conventions: every KAFKA_FOO_BAR variable
# becomes foo.bar in server.properties (__ is _, ___ is -), CLUSTER_ID formats an empty log
# directory on first start.
ARG BASE_IMAGE=debian:12-slim

# A Java runtime of only the modules the broker and its tools use (jlink), a third of
# Debian's full JRE
FROM ${BASE_IMAGE} AS jre
RUN apt-get update -q \
 && mkdir -p /usr/share/man/man1 \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openjdk-17-jdk-headless \
 && rm -rf /var/lib/apt/lists/*
RUN jlink --output /opt/jre --strip-java-debug-attributes --no-man-pages --no-header-files --compress=2 \
      --add-modules java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.management.rmi,java.naming,java.net.http,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.transaction.xa,java.xml,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.management.agent,jdk.naming.dns,jdk.net,jdk.security.auth,jdk.security.jgss,jdk.unsupported,jdk.zipfs \
 && /opt/jre/bin/java -version

FROM ${BASE_IMAGE}
ARG KAFKA_VERSION=4.1.1
COPY --from=jre /opt/jre /opt/jre
ENV PATH=/opt/jre/bin:$PATH
RUN useradd --system --uid 10002 --user-group --home-dir /opt/kafka --no-create-home \
      --shell /usr/sbin/nologin kafka \
 && mkdir -p /opt/kafka/config /var/lib/kafka/data \
 && chown -R kafka:kafka /opt/kafka/config /var/lib/kafka
COPY .cache/docker/kafka-libs/ /opt/kafka/libs/
COPY deploy/docker/kafka-entrypoint.sh /usr/local/bin/nt-kafka
COPY deploy/docker/kafka-healthcheck.sh /usr/local/bin/nt-kafka-healthcheck
# admin tools against the local broker: kafka-topics --list, kafka-consumer-groups --describe ...
RUN printf '#!/bin/sh\nexec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties -cp "/opt/kafka/libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 "$@"\n' \
      > /usr/local/bin/kafka-topics \
 && printf '#!/bin/sh\nexec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties -cp "/opt/kafka/libs/*" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server 127.0.0.1:9092 "$@"\n' \
      > /usr/local/bin/kafka-consumer-groups \
 && printf 'status = error\nappender.out.type = Console\nappender.out.name = OUT\nappender.out.target = SYSTEM_ERR\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = %%p %%m%%n\nrootLogger.level = ERROR\nrootLogger.appenderRef.out.ref = OUT\n' \
      > /opt/kafka/config/tools-log4j2.properties \
 && chmod 0755 /usr/local/bin/kafka-topics /usr/local/bin/kafka-consumer-groups \
 && test -f /opt/kafka/libs/kafka_2.13-${KAFKA_VERSION}.jar
ENV KAFKA_HEAP_OPTS="-Xmx512m -Xms256m"
USER kafka
WORKDIR /opt/kafka
EXPOSE 9092 9093
VOLUME /var/lib/kafka/data
ENTRYPOINT ["nt-kafka"]
# an ApiVersions request answered: the broker serves requests (a bare TCP connect would
# succeed before it does)
HEALTHCHECK --interval=5s --timeout=5s --start-period=15s --retries=24 \
  CMD ["nt-kafka-healthcheck"]
