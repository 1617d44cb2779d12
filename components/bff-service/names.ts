/** Names of the objects of one service, derived in one place and checked against the Kubernetes limits. */
import { ServiceConfig } from "../config";
import { childName, Labels, selectorLabels } from "../shared";

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
    /** Labels selecting the service's pods: stable across versions. */
    selector: Labels;
    /** Cluster-local host name of a Service of the namespace. */
    fqdn(service: string): string;
}

export function serviceNames(service: ServiceConfig, namespace: string): ServiceNames {
    const name = childName("service name", service.name);
    return {
        workload: name,
        configMap: childName(`ConfigMap of ${name}`, name, "env"),
        stableService: childName(`stable Service of ${name}`, name, "stable"),
        canaryService: childName(`canary Service of ${name}`, name, "canary"),
        virtualService: name,
        primaryRoute: `http-${name}-primary`,
        analysisTemplate: childName(`AnalysisTemplate of ${name}`, name, "analysis"),
        legacyServiceEntry: childName(`legacy ServiceEntry of ${name}`, name, "legacy"),
        selector: selectorLabels({ name }),
        fqdn: (target: string) => `${target}.${namespace}.svc.cluster.local`,
    };
}
