/**
 * Progressive delivery (SYSTEM.md §3): an AnalysisTemplate that measures the canary version's
 * error rate and p99 latency from Istio's request metrics, in Datadog or Prometheus. The Rollout
 * runs it after each pause that follows a weight change; a failed analysis aborts the rollout and
 * sends all traffic back to the stable version.
 *
 * Datadog: the Istio integration's `istio.mesh.request.count` (tags destination_app,
 * destination_version, response_code: the metric the handbook graphs) and
 * `istio.mesh.request.duration.milliseconds` collected as a distribution (for p99).
 * Prometheus: Istio's standard `istio_requests_total` and
 * `istio_request_duration_milliseconds_bucket`, reported by the destination proxy.
 */
import { SERVICE_DEFAULTS, ServiceConfig } from "../config";
import { KubeObject, Labels } from "../shared";
import { ServiceNames } from "./names";
import { ServiceContext } from "./workload";

type Analysis = NonNullable<NonNullable<ServiceConfig["canary"]>["analysis"]>;

/** expr conditions: no data yet (no canary traffic) is not a failure. */
function atMost(limit: number, provider: Analysis["provider"]): string {
    return provider === "prometheus" ? `len(result) == 0 || isNaN(result[0]) || result[0] <= ${limit}` : `default(result, 0) <= ${limit}`;
}

function datadogProviders(analysis: Analysis, namespace: string) {
    const tags = `destination_app:{{args.service-name}},destination_version:{{args.canary-version}},kube_namespace:${namespace}`;
    return {
        errorRate: {
            datadog: {
                apiVersion: "v2",
                interval: analysis.interval,
                queries: {
                    errors: `sum:istio.mesh.request.count{${tags},response_code:5*}.as_count()`,
                    total: `sum:istio.mesh.request.count{${tags}}.as_count()`,
                },
                formula: "errors / total",
            },
        },
        latency: {
            datadog: { apiVersion: "v2", interval: analysis.interval, query: `p99:istio.mesh.request.duration.milliseconds{${tags}}` },
        },
    };
}

function prometheusProviders(analysis: Analysis, namespace: string) {
    const window = SERVICE_DEFAULTS.prometheusQueryWindow;
    const selector = `reporter="destination",destination_workload_namespace="${namespace}",destination_app="{{args.service-name}}",destination_version="{{args.canary-version}}"`;
    const address = analysis.prometheusAddress as string;
    return {
        errorRate: {
            prometheus: {
                address,
                query:
                    `sum(rate(istio_requests_total{${selector},response_code=~"5.."}[${window}]))` +
                    ` / sum(rate(istio_requests_total{${selector}}[${window}]))`,
            },
        },
        latency: {
            prometheus: {
                address,
                query: `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{${selector}}[${window}])) by (le))`,
            },
        },
    };
}

export function analysisTemplate(service: ServiceConfig, ctx: ServiceContext, names: ServiceNames, labels: Labels): KubeObject | undefined {
    const analysis = service.canary?.analysis;
    if (service.strategy !== "canary" || analysis === undefined) {
        return undefined;
    }
    const providers =
        analysis.provider === "datadog" ? datadogProviders(analysis, ctx.namespace) : prometheusProviders(analysis, ctx.namespace);
    const measurement = { interval: analysis.interval, count: analysis.count, failureLimit: analysis.failureLimit };
    return {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "AnalysisTemplate",
        metadata: { name: names.analysisTemplate, namespace: ctx.namespace, labels },
        spec: {
            args: [{ name: "service-name" }, { name: "canary-version" }],
            metrics: [
                {
                    name: "error-rate",
                    ...measurement,
                    successCondition: atMost(analysis.maxErrorRate, analysis.provider),
                    provider: providers.errorRate,
                },
                {
                    name: "latency-p99",
                    ...measurement,
                    successCondition: atMost(analysis.maxLatencyP99Ms, analysis.provider),
                    provider: providers.latency,
                },
            ],
        },
    };
}
