{{/*
Names, labels and checks shared by the templates.
*/}}

{{/* Chart name, or nameOverride. */}}
{{- define "seawall.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name prefix: fullnameOverride, or release name plus chart name. */}}
{{- define "seawall.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the worker pods; they never change after install. */}}
{{- define "seawall.selectorLabels" -}}
app.kubernetes.io/name: {{ include "seawall.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{/* Labels of every object. */}}
{{- define "seawall.labels" -}}
{{ include "seawall.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: seawall
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "seawall.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "seawall.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference: registry/repository, then @digest or :tag. */}}
{{- define "seawall.image" -}}
{{- $repository := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $repository = printf "%s/%s" .Values.image.registry .Values.image.repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
The worker configuration file. Keys use the file's own snake_case names;
README.md describes each of them.
*/}}
{{- define "seawall.workerConfig" -}}
{{- $config := dict
  "kafka" (dict "bootstrap_servers" .Values.kafka.bootstrapServers "group_id" .Values.kafka.groupId)
  "schemas" (dict "directory" .Values.config.schemasDirectory)
  "keys" (dict "file" "/etc/seawall/keys/keys.json")
  "audit_topic" .Values.config.auditTopic
  "dead_letter_topic" .Values.config.deadLetterTopic
  "routes" .Values.config.routes
  "metrics" (dict "port" (int .Values.metrics.port) "host" "0.0.0.0")
  "logging" .Values.config.logging
-}}
{{- $kafka := .Values.kafka -}}
{{- if $kafka.tls.enabled }}
{{- $_ := set $config.kafka "security_protocol" (ternary "SASL_SSL" "SSL" $kafka.sasl.enabled) }}
{{- $ssl := dict "ca_file" (printf "/etc/seawall/kafka-tls/%s" $kafka.tls.caKey) }}
{{- if and $kafka.tls.certKey $kafka.tls.keyKey }}
{{- $_ := set $ssl "cert_file" (printf "/etc/seawall/kafka-tls/%s" $kafka.tls.certKey) }}
{{- $_ := set $ssl "key_file" (printf "/etc/seawall/kafka-tls/%s" $kafka.tls.keyKey) }}
{{- end }}
{{- $_ := set $config.kafka "ssl" $ssl }}
{{- end }}
{{- if $kafka.sasl.enabled }}
{{- $mechanisms := dict "plaintext" "PLAIN" "scram_sha256" "SCRAM-SHA-256" "scram_sha512" "SCRAM-SHA-512" }}
{{- $_ := set $config.kafka "sasl" (dict "mechanism" (get $mechanisms $kafka.sasl.mechanism) "username" $kafka.sasl.username "password_env" "SEAWALL_KAFKA_SASL_PASSWORD") }}
{{- end }}
{{- with .Values.config.policy }}
{{- $_ := set $config "policy" . }}
{{- end }}
{{- with .Values.config.worker }}
{{- $_ := set $config "worker" . }}
{{- end }}
{{- toYaml $config -}}
{{- end -}}

{{/*
Checks that values.schema.json cannot express, because they compare two
values. Rendered once, from the Deployment.
*/}}
{{- define "seawall.validateValues" -}}
{{- $partitions := int .Values.kafka.sourcePartitions -}}
{{- $keda := .Values.autoscaling.keda -}}
{{- if and (not $keda.enabled) (gt (int .Values.replicaCount) $partitions) -}}
{{- fail (printf "replicaCount (%d) exceeds kafka.sourcePartitions (%d): workers beyond the partition count get no partition; lower replicaCount or add partitions and raise kafka.sourcePartitions" (int .Values.replicaCount) $partitions) -}}
{{- end -}}
{{- if and $keda.enabled (gt (int $keda.maxReplicas) $partitions) -}}
{{- fail (printf "autoscaling.keda.maxReplicas (%d) exceeds kafka.sourcePartitions (%d): workers beyond the partition count get no partition; lower maxReplicas" (int $keda.maxReplicas) $partitions) -}}
{{- end -}}
{{- if and $keda.enabled (gt (int $keda.minReplicas) (int $keda.maxReplicas)) -}}
{{- fail (printf "autoscaling.keda.minReplicas (%d) exceeds autoscaling.keda.maxReplicas (%d)" (int $keda.minReplicas) (int $keda.maxReplicas)) -}}
{{- end -}}
{{- if and .Values.kafka.tls.enabled (not .Values.kafka.tls.existingSecret) -}}
{{- fail "kafka.tls.enabled needs kafka.tls.existingSecret, the Secret with the CA certificate" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret, the Secret with the user name and password" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.tls.enabled) -}}
{{- fail "kafka.sasl.enabled needs kafka.tls.enabled: the worker uses SASL only over TLS (SASL_SSL)" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.username) -}}
{{- fail "kafka.sasl.enabled needs kafka.sasl.username, the worker's SASL user name" -}}
{{- end -}}
{{- if and .Values.pdb.create .Values.pdb.minAvailable .Values.pdb.maxUnavailable -}}
{{- fail "pdb: set either minAvailable or maxUnavailable, not both" -}}
{{- end -}}
{{- end -}}
