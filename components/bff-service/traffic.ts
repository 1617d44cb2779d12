/**
 * How traffic reaches a BFF service (docs/design.md §3-5, §9): its Services, its VirtualService with
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
import { serviceNames, ServiceNames } from "./names";
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

/** Name of the `index`-th preview route of a service's VirtualService. */
export function previewRouteName(service: ServiceConfig, index: number): string {
    return `http-${service.name}-preview-${index}`;
}

/** The two destinations Argo Rollouts shifts: at rest everything goes to stable. */
function canaryPair(names: ServiceNames, port: number): Record<string, unknown>[] {
    return [destination(names.fqdn(names.stableService), port, 100), destination(names.fqdn(names.canaryService), port, 0)];
}

/** A route whose weights a Rollout moves: the VirtualService (same namespace) and the route's name. */
export interface RolloutRoute {
    virtualService: string;
    route: string;
}

/**
 * Every route that splits traffic between the stable and canary Services of `target` (a canary
 * service): its own primary route, and the preview routes of the services that preview it. Its
 * Rollout lists them all (`trafficRouting.istio.virtualServices`) and moves their weights together.
 */
export function rolloutRoutesOf(target: ServiceConfig, ctx: ServiceContext): RolloutRoute[] {
    if (target.strategy !== "canary") {
        return [];
    }
    const names = serviceNames(target, ctx.namespace);
    const routes: RolloutRoute[] = [{ virtualService: names.virtualService, route: names.primaryRoute }];
    for (const source of ctx.services ?? []) {
        source.previews.forEach((preview, i) => {
            // The config refuses a service that previews itself.
            if (preview.service === target.name) {
                routes.push({ virtualService: serviceNames(source, ctx.namespace).virtualService, route: previewRouteName(source, i) });
            }
        });
    }
    return routes;
}

/**
 * Routes of `service`'s own VirtualService whose weights a Rollout moves (its primary route when
 * it is a canary, its preview routes to canary services): Argo CD must leave those weights alone.
 */
export function rolloutOwnedRoutes(service: ServiceConfig, ctx: ServiceContext): RolloutRoute[] {
    const byName = new Map((ctx.services ?? []).map((s) => [s.name, s]));
    const names = serviceNames(service, ctx.namespace);
    const owned = service.strategy === "canary" ? [names.primaryRoute] : [];
    service.previews.forEach((preview, i) => {
        if (byName.get(preview.service)?.strategy === "canary") {
            owned.push(previewRouteName(service, i));
        }
    });
    return owned.map((route) => ({ virtualService: names.virtualService, route }));
}

/** `trafficRouting.istio.virtualServices` of a canary: the routes of {@link rolloutRoutesOf}, grouped by VirtualService. */
export function rolloutVirtualServices(service: ServiceConfig, ctx: ServiceContext): { name: string; routes: string[] }[] {
    const byVirtualService = new Map<string, string[]>();
    for (const { virtualService, route } of rolloutRoutesOf(service, ctx)) {
        byVirtualService.set(virtualService, [...(byVirtualService.get(virtualService) ?? []), route]);
    }
    return [...byVirtualService].map(([name, routes]) => ({ name, routes }));
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
        const targetPort = target === undefined ? port : portOf(target);
        return {
            name: previewRouteName(service, i),
            match: [istioMatch(preview)],
            // A canary target is reached through its stable/canary split, whose weights the
            // target's Rollout moves on this route too (see rolloutVirtualServices); otherwise its
            // plain Service would send preview traffic to old and new pods alike.
            route:
                target?.strategy === "canary"
                    ? canaryPair(serviceNames(target, ctx.namespace), targetPort)
                    : [destination(names.fqdn(preview.service), targetPort)],
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
        weighted = canaryPair(names, port);
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

/** Connection limits and outlier detection (circuit breaking, docs/design.md §5) for every host the routes use. */
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

/** The legacy upstream as a mesh-external host, so the gateway can route to it by weight (docs/design.md §9). */
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
