/**
 * How traffic reaches a BFF service (SYSTEM.md §3-5, §9): its Services, its VirtualService with
 * preview, migration and primary routes, DestinationRules with circuit breaking, and the
 * ServiceEntry of a legacy upstream.
 *
 * A service with routes gets a *delegate* VirtualService (no hosts): the per-host root
 * VirtualServices (components/routing) send each path prefix to it, in an order this program
 * controls. Separate VirtualServices bound to the same gateway host would be merged by Istio in
 * creation order, so a catch-all `/` of one service could shadow `/watch` of another. A service
 * without routes gets a VirtualService for its cluster-local host instead.
 */
import { RequestMatch, SERVICE_DEFAULTS, ServiceConfig } from "../config";
import { KubeObject, Labels } from "../shared";
import { LIMITER_PORT_NAME } from "./local-rate-limit";
import { ServiceNames } from "./names";
import { portOf, ServiceContext } from "./workload";

const ISTIO = "networking.istio.io/v1";

/** Services: `<app>` reaches every pod; a canary adds `<app>-stable` and `<app>-canary`, whose selectors Argo Rollouts narrows. */
export function services(service: ServiceConfig, ctx: ServiceContext, names: ServiceNames, labels: Labels): KubeObject[] {
    const serviceNamesToCreate =
        service.strategy === "canary" ? [names.workload, names.stableService, names.canaryService] : [names.workload];
    return serviceNamesToCreate.map((name) => ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: ctx.namespace, labels },
        spec: {
            type: "ClusterIP",
            selector: names.selector,
            // The "http" port name tells Istio the protocol (no sniffing).
            // With the nginx limiter, traffic enters through it: istio-proxy -> nginx -> app.
            ports: [
                {
                    name: "http",
                    port: portOf(service),
                    targetPort: service.rateLimit?.local?.type === "nginx" ? LIMITER_PORT_NAME : "http",
                    protocol: "TCP",
                },
            ],
        },
    }));
}

function istioMatch(match: RequestMatch): Record<string, unknown> {
    const value = { exact: match.value };
    return match.header !== undefined
        ? { headers: { [match.header.toLowerCase()]: value } }
        : { queryParams: { [match.query as string]: value } };
}

function destination(host: string, port: number, weight?: number): Record<string, unknown> {
    return { destination: { host, port: { number: port } }, ...(weight === undefined ? {} : { weight }) };
}

/** Routes of the service's VirtualService: previews, the migration override, then the primary route. */
export function httpRoutes(service: ServiceConfig, ctx: ServiceContext, names: ServiceNames): Record<string, unknown>[] {
    const port = portOf(service);
    const policy = {
        timeout: service.timeout,
        retries: { ...service.retries, retryOn: SERVICE_DEFAULTS.retryOn },
    };
    const byName = new Map((ctx.services ?? []).map((s) => [s.name, s]));
    const routes: Record<string, unknown>[] = service.previews.map((preview, i) => {
        const target = byName.get(preview.service);
        return {
            name: `http-${service.name}-preview-${i}`,
            match: [istioMatch(preview)],
            route: [destination(names.fqdn(preview.service), target === undefined ? port : portOf(target))],
            ...policy,
        };
    });
    const migration = service.migration;
    if (migration?.override !== undefined) {
        routes.push({
            name: `http-${service.name}-migration-override`,
            match: [istioMatch(migration.override)],
            route: [destination(names.fqdn(names.workload), port)],
            ...policy,
        });
    }
    let weighted: Record<string, unknown>[];
    if (service.strategy === "canary") {
        // Argo Rollouts moves these two weights during a rollout; at rest everything goes to stable.
        weighted = [destination(names.fqdn(names.stableService), port, 100), destination(names.fqdn(names.canaryService), port, 0)];
    } else if (migration !== undefined) {
        weighted = [
            destination(names.fqdn(names.workload), port, 100 - migration.legacyWeight),
            destination(migration.legacyHost, migration.legacyPort, migration.legacyWeight),
        ];
    } else {
        weighted = [destination(names.fqdn(names.workload), port)];
    }
    const mirror = service.mirror;
    const mirrorTarget = mirror === undefined ? undefined : byName.get(mirror.service);
    routes.push({
        name: names.primaryRoute,
        route: weighted,
        ...(mirror === undefined
            ? {}
            : {
                  mirror: { host: names.fqdn(mirror.service), port: { number: mirrorTarget === undefined ? port : portOf(mirrorTarget) } },
                  mirrorPercentage: { value: mirror.percentage },
              }),
        ...policy,
    });
    return routes;
}

/** The service's VirtualService: a delegate of the host routes, or bound to its cluster-local host. */
export function virtualService(service: ServiceConfig, ctx: ServiceContext, names: ServiceNames, labels: Labels): KubeObject {
    const http = httpRoutes(service, ctx, names);
    return {
        apiVersion: ISTIO,
        kind: "VirtualService",
        metadata: { name: names.virtualService, namespace: ctx.namespace, labels },
        // A delegate has no hosts; the mesh-only form routes callers inside the cluster.
        spec: service.routes.length > 0 ? { http } : { hosts: [names.fqdn(names.workload)], http },
    };
}

/** Connection limits and outlier detection (circuit breaking, SYSTEM.md §5) for every host the routes use. */
export function destinationRules(service: ServiceConfig, ctx: ServiceContext, names: ServiceNames, labels: Labels): KubeObject[] {
    const cb = service.circuitBreaker;
    const trafficPolicy = {
        connectionPool: {
            tcp: { maxConnections: cb.maxConnections, connectTimeout: "3s" },
            http: { http1MaxPendingRequests: cb.maxPendingRequests, http2MaxRequests: cb.maxRequests },
        },
        outlierDetection: {
            consecutive5xxErrors: cb.consecutive5xxErrors,
            interval: cb.interval,
            baseEjectionTime: cb.baseEjectionTime,
            maxEjectionPercent: cb.maxEjectionPercent,
        },
    };
    const hosts = service.strategy === "canary" ? [names.workload, names.stableService, names.canaryService] : [names.workload];
    return hosts.map((host) => ({
        apiVersion: ISTIO,
        kind: "DestinationRule",
        metadata: { name: host, namespace: ctx.namespace, labels },
        spec: { host: names.fqdn(host), trafficPolicy },
    }));
}

/** The legacy upstream as a mesh-external host, so the gateway can route to it by weight (SYSTEM.md §9). */
export function legacyServiceEntry(
    service: ServiceConfig,
    ctx: ServiceContext,
    names: ServiceNames,
    labels: Labels,
): KubeObject | undefined {
    const migration = service.migration;
    if (migration === undefined) {
        return undefined;
    }
    return {
        apiVersion: ISTIO,
        kind: "ServiceEntry",
        metadata: { name: names.legacyServiceEntry, namespace: ctx.namespace, labels },
        spec: {
            hosts: [migration.legacyHost],
            location: "MESH_EXTERNAL",
            resolution: "DNS",
            ports: [{ number: migration.legacyPort, name: "http", protocol: "HTTP" }],
        },
    };
}
