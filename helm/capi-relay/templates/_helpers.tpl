{{/* Chart name, truncated to the 63 characters Kubernetes allows in names. */}}
{{- define "capi-relay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified app name: release-chart unless the release name already contains it. */}}
{{- define "capi-relay.fullname" -}}
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

{{- define "capi-relay.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "capi-relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capi-relay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "capi-relay.labels" -}}
helm.sh/chart: {{ include "capi-relay.chart" . }}
{{ include "capi-relay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "capi-relay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "capi-relay.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Environment variable holding a platform credential: CAPI_<PLATFORM>_<NAME> (NAME "token"
for the access token), upper case with "-" and "." as "_". */}}
{{- define "capi-relay.secretEnvName" -}}
{{- $parts := list "CAPI" .platform -}}
{{- if .name }}{{ $parts = append $parts .name }}{{ end -}}
{{- join "_" $parts | upper | replace "-" "_" | replace "." "_" -}}
{{- end -}}

{{/*
Guards that make a broken combination fail at render time instead of in the cluster.
*/}}
{{- define "capi-relay.validate" -}}
{{- if and .Values.keda.enabled .Values.hpa.enabled -}}
{{- fail "keda.enabled and hpa.enabled are mutually exclusive: both would fight over the Deployment's replicas" -}}
{{- end -}}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicas) (int .Values.keda.partitions)) -}}
{{- fail (printf "keda.maxReplicas (%d) must not exceed keda.partitions (%d): consumers beyond the partition count sit idle" (int .Values.keda.maxReplicas) (int .Values.keda.partitions)) -}}
{{- end -}}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicas) (int .Values.keda.maxReplicas)) -}}
{{- fail "keda.minReplicas must not exceed keda.maxReplicas" -}}
{{- end -}}
{{- if and .Values.hpa.enabled (gt (int .Values.hpa.minReplicas) (int .Values.hpa.maxReplicas)) -}}
{{- fail "hpa.minReplicas must not exceed hpa.maxReplicas" -}}
{{- end -}}
{{- if le (int (include "capi-relay.gracePeriod" .)) (int .Values.drainDeadlineSeconds) -}}
{{- fail "terminationGracePeriodSeconds must be greater than drainDeadlineSeconds, or pods are killed mid-drain" -}}
{{- end -}}
{{- range $slug, $pcfg := (.Values.config.platforms | default dict) -}}
{{- range $key, $_ := (($pcfg | default dict).credentials | default dict) -}}
{{- if has (lower $key) (list "token" "access_token" "password" "secret" "client_secret" "refresh_token") -}}
{{- fail (printf "config.platforms.%s.credentials.%s looks like an inlined secret; reference an environment variable (platformSecrets / *_env) instead" $slug $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "capi-relay.gracePeriod" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- .Values.terminationGracePeriodSeconds | int -}}
{{- else -}}
{{- add (int .Values.drainDeadlineSeconds) 15 -}}
{{- end -}}
{{- end -}}

{{/*
The relay's config.yaml: values.config plus what the chart owns (listen address and port,
drain deadline, SQLite path under the writable data dir, credential variable names).
*/}}
{{- define "capi-relay.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- $obs := get $cfg "observability" | default dict -}}
{{- $_ := set $obs "http_host" "0.0.0.0" -}}
{{- $_ := set $obs "http_port" (int .Values.metrics.port) -}}
{{- $_ := set $cfg "observability" $obs -}}
{{- $consumer := get $cfg "consumer" | default dict -}}
{{- $_ := set $consumer "drain_deadline_s" (int .Values.drainDeadlineSeconds) -}}
{{- $_ := set $cfg "consumer" $consumer -}}
{{- $store := get $cfg "store" | default dict -}}
{{- if not (hasKey $store "sqlite_path") -}}
{{- $_ := set $store "sqlite_path" (printf "%s/capi-relay.db" .Values.storage.dataDir) -}}
{{- end -}}
{{- $_ := set $cfg "store" $store -}}
{{- $platforms := get $cfg "platforms" | default dict -}}
{{- range $slug, $sec := (.Values.platformSecrets | default dict) -}}
{{- $p := get $platforms $slug | default dict -}}
{{- $creds := get $p "credentials" | default dict -}}
{{- if $sec.tokenKey -}}
{{- $_ := set $creds "token_env" (include "capi-relay.secretEnvName" (dict "platform" $slug "name" "token")) -}}
{{- end -}}
{{- if $sec.extraKeys -}}
{{- $extra := get $creds "extra_env" | default dict -}}
{{- range $name, $_k := $sec.extraKeys -}}
{{- $_ := set $extra $name (include "capi-relay.secretEnvName" (dict "platform" $slug "name" $name)) -}}
{{- end -}}
{{- $_ := set $creds "extra_env" $extra -}}
{{- end -}}
{{- $_ := set $p "credentials" $creds -}}
{{- $_ := set $platforms $slug $p -}}
{{- end -}}
{{- $_ := set $cfg "platforms" $platforms -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* Environment variables with platform credentials from existing Secrets. */}}
{{- define "capi-relay.secretEnv" -}}
{{- range $slug, $sec := (.Values.platformSecrets | default dict) }}
{{- if $sec.tokenKey }}
- name: {{ include "capi-relay.secretEnvName" (dict "platform" $slug "name" "token") }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "platformSecrets.%s.secretName is required" $slug) $sec.secretName }}
      key: {{ $sec.tokenKey }}
{{- end }}
{{- range $name, $key := ($sec.extraKeys | default dict) }}
- name: {{ include "capi-relay.secretEnvName" (dict "platform" $slug "name" $name) }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "platformSecrets.%s.secretName is required" $slug) $sec.secretName }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end -}}
