/**
 * The fluent-bit sidecar's configuration (SYSTEM.md §4, handbook §10.2.2): syslog records from
 * nginx arrive on the unix datagram socket, the JSON message is parsed, a Lua filter computes the
 * dated path of the record, rewrite_tag makes that path the tag, and the file output appends the
 * record to `<log directory>/<YYYY-MMDD>/<gateway>-access.log` on the node.
 *
 * Why a sidecar and a socket instead of a DaemonSet tailing container logs: tail stopped under high
 * rps (fluent-bit issue 3947); the socket is the streaming model AWS recommends for throughput.
 */
import { GatewayConfig } from "../config";
import { SidecarLayout } from "./nginx";

/** Where fluent-bit's files are mounted in its container (the image's default `-c /fluent-bit/etc/fluent-bit.conf`). */
export const FLUENT_BIT_CONFIG_DIR = "/fluent-bit/etc";
/** Where the node's log directory (hostPath) is mounted in the fluent-bit container. */
export const LOG_OUTPUT_DIR = "/var/log/gateway-access";
/** fluent-bit's HTTP server: probes and Prometheus metrics. */
export const FLUENT_BIT_HTTP_PORT = 2020;
/** Name of the Lua script and of its function (the seed's). */
export const LUA_SCRIPT = "create-log-file-path.lua";
export const LUA_FUNCTION = "create_log_file_path";

/** File name of the access log inside each dated directory: `istio-ingressgateway-access.log` for the default gateway, as in the seed. */
export function accessLogFileName(gateway: GatewayConfig): string {
    return `${gateway.name}-access.log`;
}

/**
 * The seed's Lua filter: adds `log_file_path = "<YYYY-MMDD>/<file>"` from the record's timestamp,
 * in the container's time zone (TZ). The file name is a parameter; the rest is the handbook's code.
 */
export function renderLuaScript(gateway: GatewayConfig): string {
    return [
        `-- ${LUA_SCRIPT}: dated path of an access-log record (handbook §10.2.2).`,
        `function ${LUA_FUNCTION}(tag, timestamp, record)`,
        "    new_record = record",
        `    new_record["log_file_path"] = os.date("%Y-%m%d", timestamp) .. "/${accessLogFileName(gateway)}"`,
        "    return 1, timestamp, new_record",
        "end",
        "",
    ].join("\n");
}

/**
 * parsers.conf. `syslog-rfc3164-local` is fluent-bit's own definition (the seed's PDF garbled its
 * regex); `json` takes the record's time from nginx's `time_local`, which carries its offset, so
 * the dated path is right whatever time zone the syslog header was written in.
 */
export function renderParsersConf(): string {
    return [
        "[PARSER]",
        "    Name        syslog-rfc3164-local",
        "    Format      regex",
        "    Regex       ^\\<(?<pri>[0-9]+)\\>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<ident>[a-zA-Z0-9_\\/\\.\\-]*)(?:\\[(?<pid>[0-9]+)\\])?(?:[^\\:]*\\:)? *(?<message>.*)$",
        "    Time_Key    time",
        "    Time_Format %b %d %H:%M:%S",
        "    Time_Keep   On",
        "",
        "[PARSER]",
        "    Name        json",
        "    Format      json",
        "    Time_Key    time_local",
        "    Time_Format %d/%b/%Y:%H:%M:%S %z",
        "    Time_Keep   On",
        "",
    ].join("\n");
}

/** fluent-bit.conf: the seed's pipeline, with absolute paths and the rewritten records only in the output. */
export function renderFluentBitConf(layout: SidecarLayout): string {
    return [
        "[SERVICE]",
        "    Flush        1",
        // On SIGTERM fluent-bit flushes for up to this many seconds (the pod's grace period is longer).
        "    Grace        120",
        "    Daemon       off",
        `    Parsers_File ${FLUENT_BIT_CONFIG_DIR}/parsers.conf`,
        "    HTTP_Server  On",
        "    HTTP_Listen  0.0.0.0",
        `    HTTP_PORT    ${FLUENT_BIT_HTTP_PORT}`,
        "    Log_Level    info",
        "",
        "[INPUT]",
        "    Name              syslog",
        "    Tag               kube.*",
        `    Path              ${layout.socketPath}`,
        "    Parser            syslog-rfc3164-local",
        "    Mode              unix_udp",
        // One datagram is one access-log record; long cookies and user agents fit.
        "    Buffer_Chunk_Size 64k",
        "    Buffer_Max_Size   64k",
        "",
        "[FILTER]",
        "    Name         parser",
        "    Match        kube.*",
        "    Key_Name     message",
        "    Preserve_Key true",
        "    Reserve_Data true",
        "    Parser       json",
        "",
        "[FILTER]",
        "    Name   lua",
        "    Match  kube.*",
        `    script ${FLUENT_BIT_CONFIG_DIR}/${LUA_SCRIPT}`,
        `    call   ${LUA_FUNCTION}`,
        "",
        // The dated path becomes the tag; the original record is not kept (the seed kept it, which
        // wrote every record a second time under the input's tag).
        "[FILTER]",
        "    Name  rewrite_tag",
        "    Match kube.*",
        "    Rule  $log_file_path ^(.+)$ $log_file_path false",
        "",
        // Tag = <YYYY-MMDD>/<file>; Mkdir creates each day's directory.
        "[OUTPUT]",
        "    Name        file",
        "    Match_Regex ^[0-9]{4}-[0-9]{4}/",
        `    Path        ${LOG_OUTPUT_DIR}`,
        "    Mkdir       On",
        "    Format      plain",
        "",
    ].join("\n");
}
