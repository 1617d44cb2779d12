/**
 * Progressive delivery (docs/design.md §3): an AnalysisTemplate that measures the canary version's
 * error rate and p99 latency from Istio's request metrics, in Datadog or Prometheus. The Rollout
 * runs it after each pause that follows a weight change; a failed analysis aborts the rollout and
 * sends all traffic back to the stable version.
 *
 * No data is never a pass. Each metric has a success and a failure condition that both require a
 * number; a measurement with no data (an empty Datadog bucket, an empty Prometheus vector, 0/0 =
 * NaN) meets neither and is Inconclusive, and with `inconclusiveLimit: 0` one inconclusive
 * measurement makes the run Inconclusive, which pauses the rollout for a person to resume or abort
 * (Argo Rollouts docs/features/analysis.md, "Inconclusive Runs"; utils/evaluate/evaluate.go:
 * neither condition true -> Inconclusive). `default(result, 0)` would turn no data into a pass.
 *
 * Datadog (Argo Rollouts docs/analysis/datadog.md, provider v2): `datadog.interval` is the query
 * window (from now - interval to now) and `aggregator` reduces each query to one number; the
 * default aggregator `last` reads only the newest rollup bucket, often still empty while the
 * Agent's points are ingested. So the counts are summed over a window of several minutes
 * (`SERVICE_DEFAULTS.datadogQueryWindow`). Metrics of the Istio integration
 * (DataDog/integrations-core istio, OpenMetrics V2, the default since Agent 7.33):
 * `istio.mesh.request.count` (count) and the request duration histogram
 * `istio.mesh.request.duration.milliseconds.{bucket,sum,count}`; `.bucket` is a distribution (the
 * only form a p99 can be computed from) when the check runs with
 * `histogram_buckets_as_distributions: true`. Without that setting the latency query has no data
 * and the analysis is Inconclusive, not passed.
 *
 * Prometheus: Istio's standard `istio_requests_total` and
 * `istio_request_duration_milliseconds_bucket`, reported by the destination proxy. The error
 * numerator is `or vector(0)`: without any 5xx series the division would be an empty vector.
 */
import { SERVICE_DEFAULTS, ServiceConfig } from "../config";
import { KubeObject, Labels } from "../shared";
import { ServiceNames } from "./names";
import { ServiceContext } from "./workload";

type Analysis = NonNullable<NonNullable<ServiceConfig["canary"]>["analysis"]>;

/**
 * The success and failure conditions (Argo Rollouts expr) of "at most `limit`": both false when
 * there is no number, so no data is Inconclusive. Datadog's `result` is a number or nil
 * (`isNil`), Prometheus's a vector (`len`, `result[0]`); either may be NaN (0/0).
 */
export function limitConditions(limit: number, provider: Analysis["provider"]): { successCondition: string; failureCondition: string } {
    const [value, hasNumber] =
        provider === "prometheus" ? ["result[0]", "len(result) > 0 && !isNaN(result[0])"] : ["result", "!isNil(result) && !isNaN(result)"];
    return { successCondition: `${hasNumber} && ${value} <= ${limit}`, failureCondition: `${hasNumber} && ${value} > ${limit}` };
}

function datadogProviders(namespace: string) {
    const window = SERVICE_DEFAULTS.datadogQueryWindow;
    const tags = `destination_app:{{args.service-name}},destination_version:{{args.canary-version}},kube_namespace:${namespace}`;
    return {
        errorRate: {
            datadog: {
                apiVersion: "v2",
                interval: window,
                // Requests summed over the whole window. The error share is 1 - (non-5xx / all): a
                // query for the 5xx alone has no series at all while there are none, and a formula
                // over a missing series has no value (default_zero() cannot help: "if the
                // evaluation window contains no data points, default_zero() has no effect",
                // docs.datadoghq.com/dashboards/functions/interpolation). Negated wildcard filter:
                // `{!device:/dev/loop*}` in docs.datadoghq.com/metrics/advanced-filtering.
                aggregator: "sum",
                queries: {
                    ok: `sum:istio.mesh.request.count{${tags},!response_code:5*}.as_count()`,
                    total: `sum:istio.mesh.request.count{${tags}}.as_count()`,
                },
                formula: "1 - ok / total",
            },
        },
        latency: {
            datadog: {
                apiVersion: "v2",
                interval: window,
                // One p99 over the window's raw points (a distribution's percentile, not a sum of buckets).
                aggregator: "percentile",
                queries: { p99: `p99:istio.mesh.request.duration.milliseconds.bucket{${tags}}` },
            },
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
                    `(sum(rate(istio_requests_total{${selector},response_code=~"5.."}[${window}])) or vector(0))` +
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
    // The config allows a `canary` section with strategy "canary" only.
    const analysis = service.canary?.analysis;
    if (analysis === undefined) {
        return undefined;
    }
    const providers = analysis.provider === "datadog" ? datadogProviders(ctx.namespace) : prometheusProviders(analysis, ctx.namespace);
    // inconclusiveLimit 0 (Argo Rollouts' default, written out): one measurement without data pauses the rollout.
    const measurement = { interval: analysis.interval, count: analysis.count, failureLimit: analysis.failureLimit, inconclusiveLimit: 0 };
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
                    ...limitConditions(analysis.maxErrorRate, analysis.provider),
                    provider: providers.errorRate,
                },
                {
                    name: "latency-p99",
                    ...measurement,
                    ...limitConditions(analysis.maxLatencyP99Ms, analysis.provider),
                    provider: providers.latency,
                },
            ],
        },
    };
}
