{{/*
The two roles share one image and one shape; these definitions take
(dict "root" $ "component" "gateway"|"publish-api" "values" .Values.gateway|.Values.publishApi).
*/}}

{{- define "herald.componentName" -}}
{{- printf "%s-%s" (include "herald.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The non-secret HERALD_* environment of one role, as a map. */}}
{{- define "herald.componentEnv" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- include "herald.checkEnv" (dict "env" $root.Values.env "where" "env") }}
{{- include "herald.checkEnv" (dict "env" $v.env "where" (printf "%s.env" (ternary "gateway" "publishApi" (eq .component "gateway")))) }}
{{- include "herald.checkFeatures" $root }}
{{- $env := include "herald.givenEnv" (dict "root" $root "values" $v) | fromYaml }}
{{- $_ := set $env "HERALD_PORT" (toString $v.port) }}
{{- if not (and $root.Values.nats.urlSecret.name $root.Values.nats.urlSecret.key) }}
{{- $_ := set $env "HERALD_NATS_URL" (required "nats.url is required: Herald's roles run as separate processes and meet on NATS" (tpl $root.Values.nats.url $root)) }}
{{- end }}
{{- $_ := set $env "HERALD_NATS_REPLICAS" (toString $root.Values.nats.replicas) }}
{{- include "herald.checkNats" $root }}
{{- $_ := set $env "HERALD_NATS_STREAM" $root.Values.nats.stream }}
{{- $_ := set $env "HERALD_NATS_PARTITIONS" (toString $root.Values.nats.partitions) }}
{{- $_ := set $env "HERALD_NATS_PREFIX" $root.Values.nats.subjectPrefix }}
{{- $env = merge $env (include "herald.natsFileEnv" $root | fromYaml) }}
{{- if eq .component "gateway" }}
{{- $_ := set $env "HERALD_DRAIN_WINDOW_MS" (toString $v.drainWindowMs) }}
{{- $_ := set $env "HERALD_DRAIN_TIMEOUT_MS" (toString $v.drainTimeoutMs) }}
{{- if eq $root.Values.auth.jwt.source "jwks" }}
{{- $_ := set $env "HERALD_JWKS_URL" (required "auth.jwt.jwksUrl is required with auth.jwt.source=jwks" $root.Values.auth.jwt.jwksUrl) }}
{{- end }}
{{- else }}
{{- $_ := set $env "HERALD_SHUTDOWN_TIMEOUT_MS" (toString $v.shutdownTimeoutMs) }}
{{- if include "herald.webPush" $root }}
{{- /* The registration route verifies user tokens with the gateways' rules: their key source and HERALD_JWT_* (unless publishApi.env sets its own). */}}
{{- if eq $root.Values.auth.jwt.source "jwks" }}
{{- $_ := set $env "HERALD_JWKS_URL" (required "auth.jwt.jwksUrl is required with auth.jwt.source=jwks" $root.Values.auth.jwt.jwksUrl) }}
{{- end }}
{{- $gw := include "herald.givenEnv" (dict "root" $root "values" $root.Values.gateway) | fromYaml }}
{{- range $k := list "HERALD_JWT_ALGORITHMS" "HERALD_JWT_AUDIENCE" "HERALD_JWT_ISSUER" "HERALD_JWT_ALLOW_NO_EXP" "HERALD_JWT_CLOCK_TOLERANCE_S" }}
{{- if and (hasKey $gw $k) (not (hasKey ($v.env | default dict) $k)) }}
{{- $_ := set $env $k (get $gw $k) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{- define "herald.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "herald.componentName" . }}
  labels:
    {{- include "herald.componentLabels" . | nindent 4 }}
data:
  {{- include "herald.componentEnv" . | fromYaml | toYaml | nindent 2 }}
{{- end }}

{{- define "herald.deployment" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $isGateway := eq .component "gateway" }}
{{- $bound := ternary $v.drainTimeoutMs $v.shutdownTimeoutMs $isGateway }}
{{- $grace := include "herald.gracePeriod" (dict "preStop" $v.preStopSleepSeconds "boundMs" $bound "explicit" $v.terminationGracePeriodSeconds "role" (ternary "gateway" "publishApi" $isGateway)) }}
{{- if and $isGateway (lt (int $v.drainTimeoutMs) (int $v.drainWindowMs)) }}
{{- fail "gateway.drainTimeoutMs must be at least gateway.drainWindowMs" }}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "herald.componentName" . }}
  labels:
    {{- include "herald.componentLabels" . | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "herald.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Bring a new pod up before an old one drains: capacity never dips during a rollout.
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "herald.selectorLabels" . | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "herald.componentEnv" . | sha256sum }}
        {{- if not $root.Values.auth.existingSecret }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- end }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "herald.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      # Longer than the preStop pause plus the drain (gateway) or request shutdown
      # (publish API): the process exits on its own before the kubelet would kill it.
      terminationGracePeriodSeconds: {{ $grace }}
      securityContext:
        {{- include "herald.podSecurityContext" $root | nindent 8 }}
      topologySpreadConstraints:
        {{- include "herald.topologySpread" (dict "root" $root "component" .component "constraints" $v.topologySpreadConstraints) | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "herald.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          # The image's entrypoint is `tini -- node /app/services/herald/dist/cli.js`;
          # the argument chooses the role.
          args: [{{ .component | quote }}]
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "herald.componentName" . }}
          env:
            - name: HERALD_NODE_ID
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- if and $root.Values.nats.urlSecret.name $root.Values.nats.urlSecret.key }}
            - name: HERALD_NATS_URL
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.nats.urlSecret.name }}
                  key: {{ $root.Values.nats.urlSecret.key }}
            {{- end }}
            {{- if $isGateway }}
            {{- if eq $root.Values.auth.jwt.source "secret" }}
            - name: HERALD_JWT_SECRET
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.jwtSecret }}
            {{- else if eq $root.Values.auth.jwt.source "publicKey" }}
            - name: HERALD_JWT_PUBLIC_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.jwtPublicKey }}
            {{- end }}
            {{- if include "herald.webhooks" $root }}
            # The URLs too: one may carry credentials (docs/deploy.md, "Inbox, Web Push and events").
            - name: HERALD_WEBHOOK_URLS
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.webhookUrls }}
            - name: HERALD_WEBHOOK_SECRET
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.webhookSecret }}
            {{- end }}
            {{- else }}
            - name: HERALD_API_KEYS
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.apiKeys }}
            {{- if include "herald.webPush" $root }}
            - name: HERALD_VAPID_PRIVATE_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.vapidPrivateKey }}
            {{- if eq $root.Values.auth.jwt.source "secret" }}
            - name: HERALD_JWT_SECRET
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.jwtSecret }}
            {{- else if eq $root.Values.auth.jwt.source "publicKey" }}
            - name: HERALD_JWT_PUBLIC_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ include "herald.secretName" $root }}
                  key: {{ $root.Values.auth.secretKeys.jwtPublicKey }}
            {{- end }}
            {{- end }}
            {{- end }}
          lifecycle:
            preStop:
              # Keep serving while endpoints and load balancers forget this pod; SIGTERM
              # (and the drain) follows when the pause ends.
              exec:
                command: ["sleep", {{ $v.preStopSleepSeconds | quote }}]
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.livenessProbe.periodSeconds }}
            timeoutSeconds: {{ $v.livenessProbe.timeoutSeconds }}
            failureThreshold: {{ $v.livenessProbe.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ $v.readinessProbe.periodSeconds }}
            timeoutSeconds: {{ $v.readinessProbe.timeoutSeconds }}
            failureThreshold: {{ $v.readinessProbe.failureThreshold }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "herald.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with include "herald.natsVolumeMounts" $root | trim }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with include "herald.natsVolumes" $root | trim }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end }}

{{- define "herald.service" -}}
{{- $v := .values }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "herald.componentName" . }}
  labels:
    {{- include "herald.componentLabels" . | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "herald.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
{{- end }}

{{- define "herald.pdb" -}}
{{- $v := .values }}
{{- if $v.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "herald.componentName" . }}
  labels:
    {{- include "herald.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "herald.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "herald.hpa" -}}
{{- $v := .values }}
{{- if $v.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "herald.componentName" . }}
  labels:
    {{- include "herald.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "herald.componentName" . }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
  {{- with $v.autoscaling.scaleDown }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: {{ .stabilizationWindowSeconds }}
      policies:
        - type: Pods
          value: {{ .podsPerPeriod }}
          periodSeconds: {{ .periodSeconds }}
  {{- end }}
{{- end }}
{{- end }}
