/** Names of the objects of one service, derived in one place and checked against the Kubernetes limits. */
import { ServiceConfig } from "../config";
import { assertName, childName, Labels, selectorLabels } from "../shared";

export interface ServiceNames {
    /** Rollout or Deployment, HPA, PDB, DestinationRule and the Service reaching every pod. */
    workload: string;
    configMap: string;
    stableService: string;
    canaryService: string;
    /** The service's VirtualService, the one Argo Rollouts edits. */
    virtualService: string;
    /** Its weighted route (handbook: `http-<app>-primary`). */
    primaryRoute: string;
    analysisTemplate: string;
    legacyServiceEntry: string;
    /** ConfigMap of the nginx rate-limiter sidecar. */
    limiterConfigMap: string;
    /** EnvoyFilter of the envoy local rate limit. */
    localRateLimitFilter: string;
    /** Labels selecting the service's pods: stable across versions. */
    selector: Labels;
    /** Cluster-local host name of a Service of the namespace. */
    fqdn(service: string): string;
}

export function serviceNames(service: ServiceConfig, namespace: string): ServiceNames {
    const name = childName("service name", service.name);
    // Services are DNS-1123 labels (63); ConfigMaps and custom resources are subdomains (253).
    const objectName = (what: string, suffix: string) => assertName("dns1123Subdomain", `${name}-${suffix}`, `${what} of ${name}`);
    return {
        workload: name,
        configMap: objectName("ConfigMap", "env"),
        stableService: childName(`stable Service of ${name}`, name, "stable"),
        canaryService: childName(`canary Service of ${name}`, name, "canary"),
        virtualService: name,
        primaryRoute: `http-${name}-primary`,
        analysisTemplate: objectName("AnalysisTemplate", "analysis"),
        legacyServiceEntry: objectName("ServiceEntry", "legacy"),
        limiterConfigMap: objectName("rate-limiter ConfigMap", "rate-limiter"),
        localRateLimitFilter: objectName("local rate limit EnvoyFilter", "local-ratelimit"),
        selector: selectorLabels({ name }),
        fqdn: (target: string) => `${target}.${namespace}.svc.cluster.local`,
    };
}
