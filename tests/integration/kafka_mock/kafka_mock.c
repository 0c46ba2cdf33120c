/*
 * kafka_mock.c — numtrust-test-kafka-mock: librdkafka's mock cluster as a
 * process of its own, for broker faults a real broker cannot be made to
 * show (tests/integration/kafka_fatal.sh).
 *
 * Creates a one-broker mock cluster (listening on 127.0.0.1, a port the OS
 * picks) with the given topics, prints "bootstrap HOST:PORT" and then obeys
 * one command per line on stdin until EOF:
 *   fatal-produce   the next ProduceRequest fails with
 *                   OUT_OF_ORDER_SEQUENCE_NUMBER: for the head-of-line
 *                   request of an idempotent producer that is a sequence
 *                   desynchronisation, a fatal error (rdkafka_request.c)
 *   produce TOPIC KEY VALUE   produces one message (delivered before "ok")
 * Each command is answered with "ok" on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define API_PRODUCE 0 /* Kafka protocol ApiKey of ProduceRequest */

static void usage(FILE *fp)
{
    fputs("usage: numtrust-test-kafka-mock --partitions N TOPIC...\n"
          "Runs a one-broker librdkafka mock cluster with TOPIC... (N partitions each),\n"
          "prints \"bootstrap HOST:PORT\", then reads commands from stdin until EOF:\n"
          "  fatal-produce   the next ProduceRequest fails with OUT_OF_ORDER_SEQUENCE_NUMBER\n"
          "  produce TOPIC KEY VALUE   one message, delivered before the answer\n",
          fp);
}

int main(int argc, char **argv)
{
    int partitions = 1, first = 1;
    char errstr[512], line[256];
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "--partitions") == 0) {
        partitions = atoi(argv[2]);
        first = 3;
    }
    if (partitions < 1 || first >= argc) {
        usage(stderr);
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "numtrust-test-kafka-mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    if (mc == NULL) {
        fprintf(stderr, "numtrust-test-kafka-mock: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = first; i < argc; i++) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, argv[i], partitions, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "numtrust-test-kafka-mock: topic %s: %s\n", argv[i],
                    rd_kafka_err2str(err));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }
    /* a plain client of the cluster, for `produce` */
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    rd_kafka_t *prod = NULL;
    if (rd_kafka_conf_set(pconf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        (prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof(errstr))) == NULL) {
        fprintf(stderr, "numtrust-test-kafka-mock: %s\n", errstr);
        rd_kafka_conf_destroy(pconf);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "fatal-produce") == 0) {
            rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 1,
                                              RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
            printf("ok\n");
        } else if (strncmp(line, "produce ", 8) == 0) {
            char *topic = strtok(line + 8, " ");
            char *key = topic ? strtok(NULL, " ") : NULL;
            char *value = key ? key + strlen(key) + 1 : NULL;
            rd_kafka_resp_err_t err =
                value == NULL
                    ? RD_KAFKA_RESP_ERR__INVALID_ARG
                    : rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(topic),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                err = rd_kafka_flush(prod, 10000);
            printf("%s\n", err == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : rd_kafka_err2str(err));
        } else if (line[0] != '\0') {
            printf("unknown command \"%s\"\n", line);
        }
        fflush(stdout);
    }
    rd_kafka_destroy(prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
