#!/bin/bash
# Create the topics of deploy/compose/seawall.yaml on $BOOTSTRAP, each with
# $PARTITIONS partitions. Topics that exist are left as they are.
set -euo pipefail

for topic in cn.crm.customers cn.crm.orders xb.crm.customers xb.crm.orders \
        cn.seawall.audit cn.seawall.dlq; do
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create \
        --if-not-exists --topic "$topic" --partitions "$PARTITIONS" \
        --replication-factor 1
done
