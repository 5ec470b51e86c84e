{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release full name: the release name, plus the chart name when the release does not contain it. */}}
{{- define "herald.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "herald.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "herald.labels" -}}
helm.sh/chart: {{ include "herald.chart" . }}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "gateway"). */}}
{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "herald.componentLabels" -}}
{{ include "herald.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "herald.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "herald.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Name of the Secret the pods read (created by the chart, or auth.existingSecret). */}}
{{- define "herald.secretName" -}}
{{- default (printf "%s-auth" (include "herald.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{/* Grace period of a role: the explicit value (checked), or preStop + drain bound + 10 s. */}}
{{- define "herald.gracePeriod" -}}
{{- $min := add .preStop (div (add .boundMs 999) 1000) }}
{{- if kindIs "invalid" .explicit }}
{{- add $min 10 }}
{{- else if le (int .explicit) (int $min) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + the drain/shutdown bound (%d s), or pods are killed mid-drain" .role .explicit $min) }}
{{- else }}
{{- .explicit }}
{{- end }}
{{- end }}

{{/*
Checks that an env map holds only non-secret HERALD_* settings: secrets belong in `auth`
(the Secret), never in a ConfigMap.
*/}}
{{- define "herald.checkEnv" -}}
{{- range $k, $v := .env }}
{{- if not (regexMatch "^HERALD_[A-Z0-9_]+$" $k) }}
{{- fail (printf "%s: %q is not a HERALD_* variable name" $.where $k) }}
{{- end }}
{{- if regexMatch "(SECRET|PASSWORD|TOKEN|API_KEYS|_KEY|_KEYS)$" $k }}
{{- fail (printf "%s: %s is a secret; set it through auth.* (a Secret), not a ConfigMap" $.where $k) }}
{{- end }}
{{- if or (eq $k "HERALD_PORT") (eq $k "HERALD_NATS_URL") (eq $k "HERALD_NODE_ID") (eq $k "HERALD_DRAIN_WINDOW_MS") (eq $k "HERALD_DRAIN_TIMEOUT_MS") (eq $k "HERALD_SHUTDOWN_TIMEOUT_MS") (eq $k "HERALD_NATS_REPLICAS") }}
{{- fail (printf "%s: %s is set by the chart from its own values (gateway.port, nats.url, ...)" $.where $k) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Default topology spread: zones and hosts, best effort. */}}
{{- define "herald.topologySpread" -}}
{{- if .constraints -}}
{{ toYaml .constraints }}
{{- else -}}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "herald.selectorLabels" (dict "root" .root "component" .component) | nindent 6 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "herald.selectorLabels" (dict "root" .root "component" .component) | nindent 6 }}
{{- end }}
{{- end }}

{{/* Pod and container security settings shared by both roles: non-root, read-only root filesystem. */}}
{{- define "herald.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "herald.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}
