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
{{- if and (regexMatch "(SECRET|PASSWORD|TOKEN|API_KEYS|_KEY|_KEYS)$" $k) (not (hasSuffix "_PUBLIC_KEY" $k)) }}
{{- fail (printf "%s: %s is a secret; set it through auth.* (a Secret), not a ConfigMap" $.where $k) }}
{{- end }}
{{- if or (has $k (list "HERALD_PORT" "HERALD_HOST" "HERALD_NODE_ID" "HERALD_DRAIN_WINDOW_MS" "HERALD_DRAIN_TIMEOUT_MS" "HERALD_SHUTDOWN_TIMEOUT_MS")) (hasPrefix "HERALD_NATS_" $k) }}
{{- if ne $k "HERALD_NATS_TIMEOUT_MS" }}
{{- fail (printf "%s: %s is set by the chart from its own values (gateway.port, nats.*, ...)" $.where $k) }}
{{- end }}
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

{{/* The failure message when a secret value is neither given nor already in the cluster. */}}
{{- define "herald.noSecretValue" -}}
{{- printf "%s is empty and there is no Secret %s in namespace %s to keep it from. The chart never generates secrets (a random value would differ on every render: Argo CD and `helm template` would roll every pod and log every user out). Either set auth.existingSecret to a Secret you manage (Sealed Secrets, External Secrets, SOPS, kubectl; docs/deploy.md section 3), or give the value once, e.g. `helm install ... %s`: later `helm upgrade`s keep it." .value (include "herald.secretName" .root) .root.Release.Namespace .example }}
{{- end }}

{{/* Where the NATS TLS and credential Secrets are mounted (read-only, one folder each). */}}
{{- define "herald.natsMountRoot" -}}/etc/herald/nats{{- end }}

{{/* Checks the NATS security values; call with the root context. */}}
{{- define "herald.checkNats" -}}
{{- $n := .Values.nats }}
{{- if and (ne $n.subjectPrefix "herald") (eq $n.stream "HERALD") }}
{{- fail (printf "nats.subjectPrefix is %q but nats.stream is still the default HERALD: installs sharing a NATS cluster need their own stream too (e.g. nats.stream: HERALD_%s)" $n.subjectPrefix ($n.subjectPrefix | upper | replace "." "_" | replace "-" "_")) }}
{{- end }}
{{- $c := $n.tls.clientCert }}
{{- if and $c.secretName (not (and $c.certKey $c.keyKey)) }}
{{- fail "nats.tls.clientCert needs certKey and keyKey" }}
{{- end }}
{{- $cr := $n.credentials }}
{{- if $cr.secretName }}
{{- if and $cr.credsKey $cr.nkeySeedKey }}
{{- fail "nats.credentials: set credsKey (a .creds file) or nkeySeedKey (an NKey seed), not both" }}
{{- end }}
{{- if not (or $cr.credsKey $cr.nkeySeedKey) }}
{{- fail "nats.credentials.secretName is set: set credsKey (a .creds file) or nkeySeedKey (an NKey seed) too" }}
{{- end }}
{{- else if or $cr.credsKey $cr.nkeySeedKey }}
{{- fail "nats.credentials.credsKey/nkeySeedKey need nats.credentials.secretName" }}
{{- end }}
{{- end }}

{{/* HERALD_NATS_* file paths of the mounted Secrets, as env entries (name: path). */}}
{{- define "herald.natsFileEnv" -}}
{{- $root := include "herald.natsMountRoot" . }}
{{- $n := .Values.nats }}
{{- if $n.tls.ca.secretName }}
HERALD_NATS_TLS_CA_FILE: {{ printf "%s/ca/%s" $root $n.tls.ca.key | quote }}
{{- end }}
{{- if $n.tls.clientCert.secretName }}
HERALD_NATS_TLS_CERT_FILE: {{ printf "%s/client/%s" $root $n.tls.clientCert.certKey | quote }}
HERALD_NATS_TLS_KEY_FILE: {{ printf "%s/client/%s" $root $n.tls.clientCert.keyKey | quote }}
{{- end }}
{{- if and $n.credentials.secretName $n.credentials.credsKey }}
HERALD_NATS_CREDS_FILE: {{ printf "%s/credentials/%s" $root $n.credentials.credsKey | quote }}
{{- else if and $n.credentials.secretName $n.credentials.nkeySeedKey }}
HERALD_NATS_NKEY_SEED_FILE: {{ printf "%s/credentials/%s" $root $n.credentials.nkeySeedKey | quote }}
{{- end }}
{{- end }}

{{/* Volumes of the NATS Secrets: only the keys Herald reads, mode 0440 (group: fsGroup). */}}
{{- define "herald.natsVolumes" -}}
{{- $n := .Values.nats }}
{{- if $n.tls.ca.secretName }}
- name: nats-ca
  secret:
    secretName: {{ $n.tls.ca.secretName }}
    defaultMode: 0440
    items:
      - { key: {{ $n.tls.ca.key | quote }}, path: {{ $n.tls.ca.key | quote }} }
{{- end }}
{{- if $n.tls.clientCert.secretName }}
- name: nats-client
  secret:
    secretName: {{ $n.tls.clientCert.secretName }}
    defaultMode: 0440
    items:
      - { key: {{ $n.tls.clientCert.certKey | quote }}, path: {{ $n.tls.clientCert.certKey | quote }} }
      - { key: {{ $n.tls.clientCert.keyKey | quote }}, path: {{ $n.tls.clientCert.keyKey | quote }} }
{{- end }}
{{- if $n.credentials.secretName }}
{{- $key := default $n.credentials.nkeySeedKey $n.credentials.credsKey }}
- name: nats-credentials
  secret:
    secretName: {{ $n.credentials.secretName }}
    defaultMode: 0440
    items:
      - { key: {{ $key | quote }}, path: {{ $key | quote }} }
{{- end }}
{{- end }}

{{- define "herald.natsVolumeMounts" -}}
{{- $root := include "herald.natsMountRoot" . }}
{{- $n := .Values.nats }}
{{- if $n.tls.ca.secretName }}
- { name: nats-ca, mountPath: {{ printf "%s/ca" $root }}, readOnly: true }
{{- end }}
{{- if $n.tls.clientCert.secretName }}
- { name: nats-client, mountPath: {{ printf "%s/client" $root }}, readOnly: true }
{{- end }}
{{- if $n.credentials.secretName }}
- { name: nats-credentials, mountPath: {{ printf "%s/credentials" $root }}, readOnly: true }
{{- end }}
{{- end }}

{{/*
The features whose wiring the chart derives from the env maps (docs/deploy.md, "Inbox, Web
Push and events"); each prints "true" or nothing. Call with the root context.
- Web Push: publishApi.env sets HERALD_VAPID_PUBLIC_KEY. The publish API then gets
  HERALD_VAPID_PRIVATE_KEY from the Secret, and the gateways' token key source and
  HERALD_JWT_* rules (it verifies the user tokens of POST /v1/push-subscriptions).
- Webhooks: gateway.webhooks.enabled. Gateways get HERALD_WEBHOOK_URLS and HERALD_WEBHOOK_SECRET
  from the Secret: a webhook URL may carry credentials (a token in its path or query).
  An explicit switch, not "a URL is given": the URLs may live only in auth.existingSecret or in
  the chart's Secret in the cluster, where `helm template` (Argo CD) cannot see them, and
  webhooks must not turn off silently when a render cannot.
- Inbox: gateway.env sets HERALD_INBOX to a true value.
*/}}
{{- define "herald.webPush" -}}
{{- if .Values.publishApi.env.HERALD_VAPID_PUBLIC_KEY }}true{{- end }}
{{- end }}

{{- define "herald.webhooks" -}}
{{- /* Checked here, the one gate every webhook decision goes through, so that the first template
rendered reports it. The message never shows the value: it may hold credentials. */}}
{{- if hasKey (.Values.gateway.env | default dict) "HERALD_WEBHOOK_URLS" }}
{{- fail "gateway.env.HERALD_WEBHOOK_URLS is no longer accepted: webhook URLs may carry credentials, so the chart takes them from its Secret, never a ConfigMap (chart 0.3.0). Move the value to auth.webhookUrls (or key webhook-urls of auth.existingSecret) and set gateway.webhooks.enabled: true; docs/deploy.md, \"Inbox, Web Push and events\"" }}
{{- end }}
{{- if .Values.gateway.webhooks.enabled }}true{{- end }}
{{- end }}

{{/* auth.webhookUrls as one HERALD_WEBHOOK_URLS string: a list is joined with spaces. */}}
{{- define "herald.webhookUrlsValue" -}}
{{- $u := .Values.auth.webhookUrls }}
{{- if kindIs "slice" $u }}
{{- join " " $u | trim }}
{{- else }}
{{- $u | default "" | toString | trim }}
{{- end }}
{{- end }}

{{/*
Checks auth.webhookUrls as Herald will (libs/events/src/webhook-target.ts), so that a typo fails
the render rather than crash-looping the gateways: at most 16 http(s) URLs, each at most 2048
characters, none with user:password@ (a token goes in the path or query). Event-type filters
are left to Herald. Messages name an entry by its position, never by its text (credentials).
*/}}
{{- define "herald.checkWebhookUrls" -}}
{{- $entries := list }}
{{- range regexSplit "[\\s,]+" . -1 }}
{{- if . }}{{- $entries = append $entries . }}{{- end }}
{{- end }}
{{- if gt (len $entries) 16 }}
{{- fail (printf "auth.webhookUrls: at most 16 webhook URLs, got %d" (len $entries)) }}
{{- end }}
{{- range $i, $e := $entries }}
{{- if not (regexMatch "(?i)^https?://[^/?#]+" $e) }}
{{- fail (printf "auth.webhookUrls: URL %d is not an http:// or https:// URL (separate URLs with spaces or commas, write a comma inside a URL as %%2C)" (add1 $i)) }}
{{- end }}
{{- if regexMatch "^[^:]+://[^/?#]*@" $e }}
{{- fail (printf "auth.webhookUrls: URL %d holds a user name or password, which Herald refuses (fetch cannot send them): put a token in the path or query instead" (add1 $i)) }}
{{- end }}
{{- if gt (len $e) 2048 }}
{{- fail (printf "auth.webhookUrls: URL %d is longer than 2048 characters" (add1 $i)) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "herald.flag" -}}
{{- if has (toString . | lower) (list "true" "1" "yes") }}true{{- end }}
{{- end }}

{{- define "herald.inbox" -}}
{{- include "herald.flag" (default "false" .Values.gateway.env.HERALD_INBOX) }}
{{- end }}

{{/*
The env map of one role as given (shared `env` under the role's own), every value a string
(a ConfigMap holds strings; YAML numbers arrive as floats: 604800000 must not become 6.048e+08).
Call with (dict "root" $ "values" .Values.gateway|.Values.publishApi); prints YAML.
*/}}
{{- define "herald.givenEnv" -}}
{{- $out := dict }}
{{- range $k, $val := merge (dict) (.values.env | default dict) (.root.Values.env | default dict) }}
{{- if kindIs "float64" $val }}
{{- $_ := set $out $k (toString (int64 $val)) }}
{{- else }}
{{- $_ := set $out $k (toString $val) }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* Checks across roles and keys that Herald would only report at start-up, in a crash loop. */}}
{{- define "herald.checkFeatures" -}}
{{- $gw := include "herald.givenEnv" (dict "root" . "values" .Values.gateway) | fromYaml }}
{{- $api := include "herald.givenEnv" (dict "root" . "values" .Values.publishApi) | fromYaml }}
{{- if include "herald.webhooks" . }}
{{- if not (include "herald.flag" (default "false" (get $gw "HERALD_EVENTS"))) }}
{{- fail "gateway.webhooks.enabled: HERALD_WEBHOOK_URLS needs HERALD_EVENTS: \"true\" (gateway.env): webhooks carry the lifecycle events" }}
{{- end }}
{{- end }}
{{- if and (get $api "HERALD_VAPID_SUBJECT") (not (include "herald.webPush" .)) }}
{{- fail "publishApi.env.HERALD_VAPID_SUBJECT is set but HERALD_VAPID_PUBLIC_KEY is not: Web Push needs the public key (publishApi.env), the subject and the private key (auth.vapidPrivateKey or auth.existingSecret) together" }}
{{- end }}
{{- if and (include "herald.webPush" .) (not (get $api "HERALD_VAPID_SUBJECT")) }}
{{- fail "publishApi.env.HERALD_VAPID_PUBLIC_KEY is set: set publishApi.env.HERALD_VAPID_SUBJECT too (mailto:ops@example.com or an https: URL; push services contact it)" }}
{{- end }}
{{- if include "herald.inbox" . }}
{{- range $k := list "HERALD_INBOX_TTL_MS" "HERALD_INBOX_MAX" "HERALD_DEDUPE_WINDOW_MS" }}
{{- if ne (get $gw $k | default "") (get $api $k | default "") }}
{{- fail (printf "%s differs between gateways (%q) and the publish API (%q): with the inbox on both open its stream and each sets the stream's limits to its own; set it once in the shared env" $k (get $gw $k | default "default") (get $api $k | default "default")) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
