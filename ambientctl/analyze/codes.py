"""istioctl analyze's message codes: name and level per code (facts from Istio's message catalogue at 1.31).

`ambientctl analyze` reports IST codes beside its own AMB codes so scripts
that grep or `--suppress` istioctl's codes keep working. Only the code, the
name and the level are Istio's; every message text is ambientctl's own. The
full catalogue is kept (not only the codes ambientctl implements) so
`--suppress` can warn about a code that does not exist, as istioctl does.
"""

from __future__ import annotations

from ambientctl.analyze.messages import Level

IST_CODES: dict[str, tuple[str, Level]] = {
    "IST0001": ("InternalError", Level.Error),
    "IST0002": ("Deprecated", Level.Warning),
    "IST0101": ("ReferencedResourceNotFound", Level.Error),
    "IST0102": ("NamespaceNotInjected", Level.Info),
    "IST0103": ("PodMissingProxy", Level.Warning),
    "IST0106": ("SchemaValidationError", Level.Error),
    "IST0107": ("MisplacedAnnotation", Level.Warning),
    "IST0108": ("UnknownAnnotation", Level.Warning),
    "IST0109": ("ConflictingMeshGatewayVirtualServiceHosts", Level.Error),
    "IST0110": ("ConflictingSidecarWorkloadSelectors", Level.Error),
    "IST0111": ("MultipleSidecarsWithoutWorkloadSelectors", Level.Error),
    "IST0112": ("VirtualServiceDestinationPortSelectorRequired", Level.Error),
    "IST0116": ("DeploymentAssociatedToMultipleServices", Level.Warning),
    "IST0118": ("PortNameIsNotUnderNamingConvention", Level.Info),
    "IST0123": ("NamespaceMultipleInjectionLabels", Level.Warning),
    "IST0125": ("InvalidAnnotation", Level.Warning),
    "IST0126": ("UnknownMeshNetworksServiceRegistry", Level.Error),
    "IST0127": ("NoMatchingWorkloadsFound", Level.Warning),
    "IST0128": ("NoServerCertificateVerificationDestinationLevel", Level.Warning),
    "IST0129": ("NoServerCertificateVerificationPortLevel", Level.Warning),
    "IST0130": ("VirtualServiceUnreachableRule", Level.Warning),
    "IST0131": ("VirtualServiceIneffectiveMatch", Level.Info),
    "IST0132": ("VirtualServiceHostNotFoundInGateway", Level.Warning),
    "IST0133": ("SchemaWarning", Level.Warning),
    "IST0134": ("ServiceEntryAddressesRequired", Level.Warning),
    "IST0135": ("DeprecatedAnnotation", Level.Info),
    "IST0136": ("AlphaAnnotation", Level.Info),
    "IST0137": ("DeploymentConflictingPorts", Level.Warning),
    "IST0138": ("GatewayDuplicateCertificate", Level.Warning),
    "IST0139": ("InvalidWebhook", Level.Error),
    "IST0140": ("IngressRouteRulesNotAffected", Level.Warning),
    "IST0141": ("InsufficientPermissions", Level.Error),
    "IST0142": ("UnsupportedKubernetesVersion", Level.Error),
    "IST0143": ("LocalhostListener", Level.Error),
    "IST0144": ("InvalidApplicationUID", Level.Warning),
    "IST0145": ("ConflictingGateways", Level.Error),
    "IST0146": ("ImageAutoWithoutInjectionWarning", Level.Warning),
    "IST0147": ("ImageAutoWithoutInjectionError", Level.Error),
    "IST0148": ("NamespaceInjectionEnabledByDefault", Level.Info),
    "IST0149": ("JwtClaimBasedRoutingWithoutRequestAuthN", Level.Error),
    "IST0150": ("ExternalNameServiceTypeInvalidPortName", Level.Warning),
    "IST0151": ("EnvoyFilterUsesRelativeOperation", Level.Warning),
    "IST0152": ("EnvoyFilterUsesReplaceOperationIncorrectly", Level.Error),
    "IST0153": ("EnvoyFilterUsesAddOperationIncorrectly", Level.Error),
    "IST0154": ("EnvoyFilterUsesRemoveOperationIncorrectly", Level.Error),
    "IST0155": ("EnvoyFilterUsesRelativeOperationWithProxyVersion", Level.Warning),
    "IST0156": ("UnsupportedGatewayAPIVersion", Level.Error),
    "IST0157": ("InvalidTelemetryProvider", Level.Warning),
    "IST0158": ("PodsIstioProxyImageMismatchInNamespace", Level.Warning),
    "IST0159": ("ConflictingTelemetryWorkloadSelectors", Level.Error),
    "IST0160": ("MultipleTelemetriesWithoutWorkloadSelectors", Level.Error),
    "IST0161": ("InvalidGatewayCredential", Level.Error),
    "IST0162": ("GatewayPortNotDefinedOnService", Level.Warning),
    "IST0163": ("InvalidExternalControlPlaneConfig", Level.Warning),
    "IST0164": ("ExternalControlPlaneAddressIsNotAHostname", Level.Info),
    "IST0165": ("ReferencedInternalGateway", Level.Warning),
    "IST0166": ("IneffectiveSelector", Level.Warning),
    "IST0167": ("IneffectivePolicy", Level.Warning),
    "IST0168": ("UnknownUpgradeCompatibility", Level.Warning),
    "IST0169": ("UpdateIncompatibility", Level.Warning),
    "IST0170": ("MultiClusterInconsistentService", Level.Warning),
    "IST0171": ("NegativeConditionStatus", Level.Warning),
    "IST0172": ("FutureUnsupportedGatewayAPIVersion", Level.Warning),
    "IST0173": ("DestinationRuleSubsetNotSelectPods", Level.Error),
    "IST0174": ("UnknownDestinationRuleHost", Level.Warning),
    "IST0175": ("JwksUriFetchUnrestricted", Level.Warning),
    "IST0176": ("GatewayAPICRDVersionBelowMinimum", Level.Warning),
    "IST0177": ("ConflictingServiceEntryProtocol", Level.Warning),
}

