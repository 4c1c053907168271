"""Field names of istioctl's Values (`values.*` of an IstioOperator), for validating --set and -f.

istioctl 1.31 decodes `values` into its Values protobuf message and rejects unknown fields, so
ambientctl does too (`unvalidatedValues` stays free-form). Each message lists its fields by the
names the JSON decoder accepts (protobuf and JSON names); the kind of each field is another
message, "scalar", "map" (string keys, any value), "free" (any subtree: Struct, Value, Kubernetes
types) or "list:<Message>". Field names as in Istio 1.31 (operator/pkg/apis/values_types.proto).
"""

from __future__ import annotations

ROOT = "Values"

MESSAGES: dict[str, dict[str, str]] = {
    "Agentgateway": {
        "image": "scalar",
    },
    "ArchConfig": {
        "amd64": "scalar", "arm64": "scalar", "ppc64le": "scalar", "s390x": "scalar",
    },
    "BaseConfig": {
        "enableCRDTemplates": "scalar", "enableIstioConfigCRDs": "scalar", "excludedCRDs": "scalar",
        "validateGateway": "scalar", "validationCABundle": "scalar", "validationURL": "scalar",
    },
    "CNIAmbientConfig": {
        "configDir": "scalar", "dnsCapture": "scalar", "enabled": "scalar", "ipv6": "scalar",
        "reconcileIptablesOnStartup": "scalar",
    },
    "CNIConfig": {
        "affinity": "free", "ambient": "CNIAmbientConfig", "chained": "scalar", "cniBinDir": "scalar",
        "cniConfDir": "scalar", "cniConfFileName": "scalar", "cniNetnsDir": "scalar", "daemonSetLabels": "free",
        "enabled": "scalar", "env": "free", "excludeNamespaces": "scalar", "hub": "scalar", "image": "scalar",
        "istioOwnedCNIConfig": "scalar", "istioOwnedCNIConfigFileName": "scalar", "logLevel": "scalar",
        "logging": "GlobalLoggingConfig", "podAnnotations": "free", "podLabels": "free", "privileged": "scalar",
        "provider": "scalar", "pspClusterRole": "scalar", "psp_cluster_role": "scalar", "pullPolicy": "scalar",
        "repair": "CNIRepairConfig", "resourceQuotas": "ResourceQuotas", "resource_quotas": "ResourceQuotas",
        "resources": "Resources", "rollingMaxUnavailable": "IntOrString", "seccompProfile": "free", "tag": "free",
        "useAppArmorAnnotation": "scalar", "variant": "scalar",
    },
    "CNIRepairConfig": {
        "brokenPodLabelKey": "scalar", "brokenPodLabelValue": "scalar", "createEvents": "scalar",
        "deletePods": "scalar", "enabled": "scalar", "hub": "scalar", "image": "scalar",
        "initContainerName": "scalar", "labelPods": "scalar", "repairPods": "scalar", "tag": "free",
    },
    "CNIUsageConfig": {
        "chained": "scalar", "enabled": "scalar", "provider": "scalar",
    },
    "DefaultPodDisruptionBudgetConfig": {
        "enabled": "scalar",
    },
    "DefaultResourcesConfig": {
        "requests": "ResourcesRequestsConfig",
    },
    "EgressGatewayConfig": {
        "additionalContainers": "free", "autoscaleEnabled": "scalar", "autoscaleMax": "scalar",
        "autoscaleMin": "scalar", "configVolumes": "free", "cpu": "TargetUtilizationConfig",
        "customService": "scalar", "enabled": "scalar", "env": "free", "injectionTemplate": "scalar",
        "ipFamilies": "scalar", "ipFamilyPolicy": "scalar", "labels": "map", "memory": "TargetUtilizationConfig",
        "name": "scalar", "nodeSelector": "free", "podAnnotations": "free", "podAntiAffinityLabelSelector": "free",
        "podAntiAffinityTermLabelSelector": "free", "ports": "list:PortsConfig", "resources": "Resources",
        "rollingMaxSurge": "IntOrString", "rollingMaxUnavailable": "IntOrString", "runAsRoot": "scalar",
        "secretVolumes": "list:SecretVolume", "serviceAccount": "ServiceAccount", "serviceAnnotations": "free",
        "tolerations": "free", "type": "scalar",
    },
    "ExperimentalConfig": {
        "stableValidationPolicy": "scalar",
    },
    "GatewaysConfig": {
        "enabled": "scalar", "istio-egressgateway": "EgressGatewayConfig",
        "istio-ingressgateway": "IngressGatewayConfig", "istio_egressgateway": "EgressGatewayConfig",
        "istio_ingressgateway": "IngressGatewayConfig", "seccompProfile": "free", "securityContext": "free",
    },
    "GlobalConfig": {
        "agentgateway": "Agentgateway", "arch": "ArchConfig", "caAddress": "scalar", "caName": "scalar",
        "certSigners": "scalar", "configCluster": "scalar", "configValidation": "scalar",
        "defaultNodeSelector": "free", "defaultPodDisruptionBudget": "DefaultPodDisruptionBudgetConfig",
        "defaultResources": "DefaultResourcesConfig", "defaultTolerations": "free", "enableReaderRBAC": "scalar",
        "externalIstiod": "scalar", "hub": "scalar", "imagePullPolicy": "scalar", "imagePullSecrets": "scalar",
        "ipFamilies": "scalar", "ipFamilyPolicy": "scalar", "istioNamespace": "scalar", "istiod": "IstiodConfig",
        "jwtPolicy": "scalar", "logAsJson": "scalar", "logging": "GlobalLoggingConfig", "meshID": "scalar",
        "meshNetworks": "free", "mountMtlsCerts": "scalar", "multiCluster": "MultiClusterConfig",
        "nativeNftables": "scalar", "network": "scalar", "networkPolicy": "NetworkPolicyConfig",
        "omitSidecarInjectorConfigMap": "scalar", "operatorManageWebhooks": "scalar", "pilotCertProvider": "scalar",
        "platform": "scalar", "podDNSSearchNamespaces": "scalar", "priorityClassName": "scalar",
        "proxy": "ProxyConfig", "proxy_init": "ProxyInitConfig", "readerServiceAccount": "ReaderServiceAccount",
        "remotePilotAddress": "scalar", "resourceScope": "scalar", "revision": "scalar", "sds": "SDSConfig",
        "sts": "STSConfig", "tag": "free", "tracer": "TracerConfig", "trustBundleName": "scalar", "variant": "scalar",
        "waypoint": "WaypointConfig",
    },
    "GlobalLoggingConfig": {
        "level": "scalar",
    },
    "IngressGatewayConfig": {
        "additionalContainers": "free", "autoscaleEnabled": "scalar", "autoscaleMax": "scalar",
        "autoscaleMin": "scalar", "configVolumes": "free", "cpu": "TargetUtilizationConfig",
        "customService": "scalar", "enabled": "scalar", "env": "free", "externalTrafficPolicy": "scalar",
        "ingressPorts": "free", "injectionTemplate": "scalar", "ipFamilies": "scalar", "ipFamilyPolicy": "scalar",
        "labels": "map", "loadBalancerIP": "scalar", "loadBalancerSourceRanges": "scalar",
        "memory": "TargetUtilizationConfig", "name": "scalar", "nodeSelector": "free", "podAnnotations": "free",
        "podAntiAffinityLabelSelector": "free", "podAntiAffinityTermLabelSelector": "free",
        "ports": "list:PortsConfig", "replicaCount": "scalar", "resources": "free", "rollingMaxSurge": "IntOrString",
        "rollingMaxUnavailable": "IntOrString", "runAsRoot": "scalar", "secretVolumes": "list:SecretVolume",
        "serviceAccount": "ServiceAccount", "serviceAnnotations": "free", "tolerations": "free", "type": "scalar",
    },
    "IntOrString": {
        "intVal": "scalar", "strVal": "scalar", "type": "scalar",
    },
    "IstiodConfig": {
        "enableAnalysis": "scalar",
    },
    "IstiodRemoteConfig": {
        "enabled": "scalar", "enabledLocalInjectorIstiod": "scalar", "injectionCABundle": "scalar",
        "injectionPath": "scalar", "injectionURL": "scalar",
    },
    "MultiClusterConfig": {
        "clusterName": "scalar", "enabled": "scalar", "globalDomainSuffix": "scalar", "includeEnvoyFilter": "scalar",
    },
    "NetworkPolicyConfig": {
        "enabled": "scalar",
    },
    "PilotConfig": {
        "affinity": "free", "autoscaleBehavior": "free", "autoscaleEnabled": "scalar", "autoscaleMax": "scalar",
        "autoscaleMin": "scalar", "cni": "CNIUsageConfig", "configMap": "scalar", "cpu": "TargetUtilizationConfig",
        "crlConfigMapName": "scalar", "deploymentLabels": "free", "enabled": "scalar", "env": "free",
        "envVarFrom": "free", "extraContainerArgs": "free", "hub": "scalar", "image": "scalar",
        "ipFamilies": "scalar", "ipFamilyPolicy": "scalar", "istiodRemote": "IstiodRemoteConfig",
        "jwksResolverExtraRootCA": "scalar", "keepaliveMaxServerConnectionAge": "scalar",
        "memory": "TargetUtilizationConfig", "nodeSelector": "free", "podAnnotations": "free", "podLabels": "free",
        "replicaCount": "scalar", "resources": "Resources", "rollingMaxSurge": "IntOrString",
        "rollingMaxUnavailable": "IntOrString", "seccompProfile": "free", "serviceAccountAnnotations": "free",
        "serviceAnnotations": "free", "tag": "free", "taint": "PilotTaintControllerConfig", "tolerations": "free",
        "topologySpreadConstraints": "free", "traceSampling": "scalar", "trustedZtunnelNamespace": "scalar",
        "variant": "scalar", "volumeMounts": "free", "volumes": "free",
    },
    "PilotTaintControllerConfig": {
        "enabled": "scalar", "name": "scalar", "namespace": "scalar",
    },
    "PortsConfig": {
        "name": "scalar", "nodePort": "scalar", "port": "scalar", "protocol": "scalar", "targetPort": "scalar",
    },
    "ProxyConfig": {
        "autoInject": "scalar", "clusterDomain": "scalar", "componentLogLevel": "scalar", "enableCoreDump": "scalar",
        "excludeIPRanges": "scalar", "excludeInboundPorts": "scalar", "excludeOutboundPorts": "scalar",
        "holdApplicationUntilProxyStarts": "scalar", "image": "scalar", "includeIPRanges": "scalar",
        "includeInboundPorts": "scalar", "includeOutboundPorts": "scalar", "lifecycle": "free", "logLevel": "scalar",
        "outlierLogPath": "scalar", "privileged": "scalar", "readinessFailureThreshold": "scalar",
        "readinessInitialDelaySeconds": "scalar", "readinessPeriodSeconds": "scalar", "resources": "Resources",
        "seccompProfile": "free", "startupProbe": "StartupProbe", "statusPort": "scalar", "tracer": "scalar",
    },
    "ProxyInitConfig": {
        "image": "scalar", "resources": "Resources",
    },
    "ReaderServiceAccount": {
        "name": "scalar", "namespace": "scalar",
    },
    "ResourceQuotas": {
        "enabled": "scalar", "pods": "scalar",
    },
    "Resources": {
        "limits": "map", "requests": "map",
    },
    "ResourcesRequestsConfig": {
        "cpu": "scalar", "memory": "scalar",
    },
    "SDSConfig": {
        "token": "free",
    },
    "STSConfig": {
        "servicePort": "scalar",
    },
    "SecretVolume": {
        "mountPath": "scalar", "name": "scalar", "secretName": "scalar",
    },
    "ServiceAccount": {
        "annotations": "free",
    },
    "SidecarInjectorConfig": {
        "alwaysInjectSelector": "free", "defaultTemplates": "scalar", "enableNamespacesByDefault": "scalar",
        "injectedAnnotations": "free", "injectionURL": "scalar", "neverInjectSelector": "free",
        "reinvocationPolicy": "scalar", "rewriteAppHTTPProbe": "scalar", "templates": "free",
    },
    "StartupProbe": {
        "enabled": "scalar", "failureThreshold": "scalar",
    },
    "TargetUtilizationConfig": {
        "targetAverageUtilization": "scalar",
    },
    "TelemetryConfig": {
        "enabled": "scalar", "v2": "TelemetryV2Config",
    },
    "TelemetryV2Config": {
        "enabled": "scalar", "prometheus": "TelemetryV2PrometheusConfig",
        "stackdriver": "TelemetryV2StackDriverConfig",
    },
    "TelemetryV2PrometheusConfig": {
        "enabled": "scalar",
    },
    "TelemetryV2StackDriverConfig": {
        "enabled": "scalar",
    },
    "TracerConfig": {
        "datadog": "TracerDatadogConfig", "lightstep": "TracerLightStepConfig",
        "stackdriver": "TracerStackdriverConfig", "zipkin": "TracerZipkinConfig",
    },
    "TracerDatadogConfig": {
        "address": "scalar",
    },
    "TracerLightStepConfig": {
        "accessToken": "scalar", "address": "scalar",
    },
    "TracerStackdriverConfig": {
        "debug": "scalar", "maxNumberOfAnnotations": "scalar", "maxNumberOfAttributes": "scalar",
        "maxNumberOfMessageEvents": "scalar",
    },
    "TracerZipkinConfig": {
        "address": "scalar",
    },
    "Values": {
        "base": "BaseConfig", "cni": "CNIConfig", "compatibilityVersion": "scalar", "defaultRevision": "scalar",
        "experimental": "ExperimentalConfig", "gatewayClasses": "free", "gateways": "GatewaysConfig",
        "global": "GlobalConfig", "istioCni": "CNIUsageConfig", "istio_cni": "CNIUsageConfig",
        "istiodRemote": "IstiodRemoteConfig", "meshConfig": "free", "ownerName": "scalar", "pilot": "PilotConfig",
        "profile": "scalar", "revision": "scalar", "revisionTags": "scalar",
        "sidecarInjectorWebhook": "SidecarInjectorConfig", "telemetry": "TelemetryConfig", "ztunnel": "free",
    },
    "WaypointConfig": {
        "affinity": "free", "nodeSelector": "free", "resources": "Resources", "toleration": "free",
        "topologySpreadConstraints": "free",
    },
}
