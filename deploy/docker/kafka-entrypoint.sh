#!/bin/bash
# nt-kafka — the numtrust/kafka image's entrypoint: server.properties from the environment,
# storage formatted on first start, then the broker in the foreground (as deploy/local/stack.sh
# runs it: java -cp 'libs/*' kafka.Kafka server.properties).
#   KAFKA_FOO_BAR=v   ->  foo.bar=v  (__ -> _, ___ -> -), as in the apache/kafka image
#   CLUSTER_ID        the KRaft cluster id used to format an empty log directory (required then)
#   KAFKA_HEAP_OPTS   JVM heap flags (default -Xmx512m -Xms256m)
# Any other command than the default is run as it is (e.g. kafka-topics --list).
set -euo pipefail
if (($#)); then
    exec "$@"
fi
conf=/opt/kafka/config/server.properties
{
    echo "# written by nt-kafka from KAFKA_* variables at $(date -u +%FT%TZ)"
    while IFS='=' read -r name _; do
        case "$name" in
        KAFKA_HEAP_OPTS | KAFKA_JVM_OPTS | KAFKA_LOG4J_OPTS) continue ;;
        KAFKA_*) ;;
        *) continue ;;
        esac
        key="${name#KAFKA_}"
        key="${key,,}"
        key="${key//___/-}"
        key="${key//__/@}"
        key="${key//_/.}"
        key="${key//@/_}"
        printf '%s=%s\n' "$key" "${!name}"
    done < <(env)
} >"$conf"
grep -q '^process\.roles=' "$conf" || {
    echo "nt-kafka: no KAFKA_PROCESS_ROLES (and the rest of the KRaft settings) in the environment" >&2
    exit 2
}
logdir="$(sed -n 's/^log\.dirs=//p' "$conf" | cut -d, -f1)"
logdir="${logdir:-/tmp/kraft-combined-logs}"
cat >/opt/kafka/config/log4j2.properties <<'LOG'
status = warn
shutdownHook = disable
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
LOG
read -ra heap <<<"${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
read -ra jvm <<<"${KAFKA_JVM_OPTS:-}"
java_cmd=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties
    -Dkafka.logs.dir=/tmp "${jvm[@]}" -cp "/opt/kafka/libs/*")
if [[ ! -f "$logdir/meta.properties" ]]; then
    : "${CLUSTER_ID:?nt-kafka: $logdir is not formatted and CLUSTER_ID is not set}"
    echo "nt-kafka: formatting $logdir (cluster $CLUSTER_ID)"
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$conf" --ignore-formatted
fi
exec "${java_cmd[@]}" kafka.Kafka "$conf"
