/**
 * The fluent-bit sidecar's configuration (docs/design.md §4, Handbook ch. 10.2.2): nginx's syslog
 * datagrams arrive on loopback UDP, nginx's JSON replaces the syslog envelope, rewrite_tag makes
 * `<YYYY-MMDD>/<pod>-access.log` (the day nginx wrote in the record) the tag, and the file output
 * appends the record to that file under the node's log directory.
 *
 * Why a sidecar and a socket instead of a DaemonSet tailing container logs: tail stopped under high
 * rps (fluent-bit issue 3947); the socket is the streaming model AWS recommends for throughput.
 *
 * Option names and defaults below are those of fluent-bit 4.0.3 (the pinned image), read in
 * github.com/fluent/fluent-bit at tag v4.0.3; each comment names the source file.
 */
import { GatewayConfig, ResourcesConfig } from "../config";
import { POD_LAYOUT, SidecarLayout } from "./nginx";

/** Where fluent-bit's files are mounted in its container (the image's default `-c /fluent-bit/etc/fluent-bit.conf`). */
export const FLUENT_BIT_CONFIG_DIR = "/fluent-bit/etc";
/** Where the node's log directory (hostPath) is mounted in the fluent-bit container. */
export const LOG_OUTPUT_DIR = "/var/log/gateway-access";
/** fluent-bit's buffer (filesystem storage): an emptyDir, so it survives a restart of the container, not of the pod. */
export const FLUENT_BIT_STORAGE_DIR = "/var/lib/fluent-bit";
/** fluent-bit's HTTP server: probes and Prometheus metrics. */
export const FLUENT_BIT_HTTP_PORT = 2020;
/** Environment variable with the pod's name (Downward API): part of every file name. */
export const POD_NAME_ENV = "POD_NAME";
/** Name of the Lua script and of its function. */
export const LUA_SCRIPT = "unparsed-record.lua";
export const LUA_FUNCTION = "mark_unparsed";
/** Tag of the records the syslog input reads. */
export const INPUT_TAG = "nginx.access";
/** The tags the file output takes: `<YYYY-MMDD>/...`, the rewritten records only. */
export const DATED_TAG_REGEX = "^[0-9]{4}-[0-9]{4}/";

/**
 * Sizing of the access-log pipeline per gateway pod, from `gateways[].ratedRequestsPerSecond`.
 *
 * - `stallSeconds`: how long fluent-bit may stop reading at the rated load without losing a
 *   datagram; the UDP receive buffer (`Receive_Buffer_Size`) is sized for it.
 * - `queuedRecordBytes`: what one queued record costs in that buffer. The kernel charges a
 *   datagram's skb truesize, not its length: a 425984-byte buffer held 184 nginx records of ~760
 *   bytes (measured on loopback, bench/access-log.ts), ~2.3 KiB each.
 * - Linux grants SO_RCVBUF = 2 × min(requested, net.core.rmem_max); the default rmem_max, 212992,
 *   thus holds ~180 records, 0.18 s at 1000 requests/s, which covers `stallSeconds` with a margin
 *   of 1.8. Above ~1000 requests/s per pod, raise net.core.rmem_max on the gateway nodes (a node
 *   sysctl, not settable from a pod) or the margin shrinks.
 * - `cpuMicrosPerRecord`: fluent-bit's CPU per record. The rendered pipeline run with fluent-bit
 *   4.0.3 used 67-93 µs a record at 1000-2000 records/s (the seed's, capped at 150m, never wrote
 *   more than ~3.5k records/s). Requested at 150 µs, so that bursts run on CPU the scheduler
 *   reserved; no CPU limit, since CFS throttling (a stall of up to 100 ms per period) is what
 *   overflowed the socket.
 * - The buffer (`storage.path`) is an emptyDir in memory (tmpfs): filesystem storage on the node's
 *   disk blocked fluent-bit's event loop on every chunk write (the rendered pipeline lost 40 % of
 *   1000 records/s at the socket with its buffer on a virtio disk, none with it on tmpfs). Its
 *   pages count in fluent-bit's memory, so the memory limit is the engine's plus the buffer's.
 */
export const ACCESS_LOG_SIZING = {
    stallSeconds: 0.1,
    queuedRecordBytes: 2400,
    cpuMicrosPerRecord: 150,
    /** The least CPU fluent-bit requests (its engine, HTTP server and probes). */
    minCpuMillis: 50,
    /** fluent-bit itself: engine, Lua state, HTTP server, chunks being flushed (the seed's 128Mi). */
    engineMemoryMi: 128,
    /** Seconds of records the buffer holds at the rated load while the output cannot write. */
    bufferSeconds: 60,
    /** A record in a chunk (msgpack), rounded up. */
    bufferedRecordBytes: 1024,
    /** Chunks held mapped ([SERVICE] storage.max_chunks_up; default 128, i.e. up to ~256 MiB). */
    maxChunksUp: 16,
} as const;

/** The buffer's emptyDir (tmpfs), in MiB: `bufferSeconds` of records at the rated load, in steps of 16 MiB. */
export function fluentBitBufferMi(gateway: GatewayConfig): number {
    const { bufferSeconds, bufferedRecordBytes } = ACCESS_LOG_SIZING;
    const mi = (gateway.ratedRequestsPerSecond * bufferSeconds * bufferedRecordBytes) / (1024 * 1024);
    return Math.max(16, Math.ceil(mi / 16) * 16);
}

/** The kernel's default net.core.rmem_max (and rmem_default): what a gateway node grants unless raised. */
export const NODE_DEFAULT_RMEM_MAX = 212_992;

/** SO_RCVBUF fluent-bit asks for: `stallSeconds` of records at the rated load, at least the kernel's default. */
export function receiveBufferBytes(gateway: GatewayConfig): number {
    const { stallSeconds, queuedRecordBytes } = ACCESS_LOG_SIZING;
    const bytes = gateway.ratedRequestsPerSecond * stallSeconds * queuedRecordBytes;
    return Math.max(NODE_DEFAULT_RMEM_MAX, Math.ceil(bytes / 1024) * 1024);
}

/**
 * fluent-bit's requests and limits, from the rated load: CPU requested and never limited; memory
 * (requests = limits) = the engine's + the tmpfs buffer's. An explicit `resources.fluentBit` replaces them.
 */
export function fluentBitResources(gateway: GatewayConfig): ResourcesConfig {
    if (gateway.resources.fluentBit !== undefined) {
        return gateway.resources.fluentBit;
    }
    const { cpuMicrosPerRecord, minCpuMillis, engineMemoryMi } = ACCESS_LOG_SIZING;
    const cpu = Math.max(minCpuMillis, Math.ceil((gateway.ratedRequestsPerSecond * cpuMicrosPerRecord) / 1000 / 10) * 10);
    const memory = `${engineMemoryMi + fluentBitBufferMi(gateway)}Mi`;
    return { requests: { cpu: `${cpu}m`, memory }, limits: { memory } };
}

/**
 * Seconds fluent-bit keeps flushing after SIGTERM ([SERVICE] Grace; 4.0.3 default 5, src/flb_config.c).
 * It is stopped only after nginx and istio-proxy have exited (it runs as a native sidecar), so
 * this is the time to write what is still buffered to the node's files.
 */
export const FLUENT_BIT_GRACE_SECONDS = 30;

/**
 * The Lua filter. nginx's records pass untouched (return code 0: fluent-bit keeps the record as
 * parsed, key order included). A record nginx's JSON parser did not take (it still has the
 * syslog `message`) becomes `{received_at, message}`: its timestamp is the time fluent-bit received
 * it (the syslog parser has no Time_Key), and `received_at` is that time in ISO 8601 in the
 * container's TZ, which dates its file; so is a record without a valid `time`.
 */
export function renderLuaScript(): string {
    return [
        `-- ${LUA_SCRIPT}: records nginx's JSON parser did not take, kept apart and dated by when they arrived.`,
        "local function iso8601(t)",
        '    local zone = os.date("%z", t)',
        '    return os.date("%Y-%m-%dT%H:%M:%S", t) .. zone:sub(1, 3) .. ":" .. zone:sub(4, 5)',
        "end",
        "",
        `function ${LUA_FUNCTION}(tag, timestamp, record)`,
        '    local time = record["time"]',
        '    if record["message"] == nil and type(time) == "string" and time:match("^%d%d%d%d%-%d%d%-%d%dT") then',
        "        return 0, timestamp, record",
        "    end",
        '    if record["message"] ~= nil then',
        '        return 1, timestamp, { received_at = iso8601(timestamp), message = record["message"] }',
        "    end",
        '    record["received_at"] = iso8601(timestamp)',
        "    return 1, timestamp, record",
        "end",
        "",
    ].join("\n");
}

/** Year, month and day of an ISO 8601 time (`2025-01-01T...`), captured as $1, $2, $3. */
const DAY_REGEX = "^([0-9][0-9][0-9][0-9])-([0-9][0-9])-([0-9][0-9])T";

/** File name of the access log of a pod for a day: `<YYYY-MMDD>/<pod>-access.log`. */
export const ACCESS_FILE_SUFFIX = "-access.log";
/** File of the records that did not parse, next to the access log: `<YYYY-MMDD>/<pod>-unparsed.log`. */
export const UNPARSED_FILE_SUFFIX = "-unparsed.log";

/**
 * parsers.conf.
 *
 * - `nginx-syslog` (the input's): the RFC 3164 header nginx writes, all of it optional, so that
 *   every datagram becomes a record (in_syslog drops a datagram its parser does not match,
 *   plugins/in_syslog/syslog_prot.c); no Time_Key, so the record's time is when it was received
 *   (syslog_prot.c: a zero parsed time becomes flb_time_get). The header's own time (no year, no
 *   zone) is not kept.
 * - `nginx-json`: nginx's record; its time is nginx's `time` ($time_iso8601, with the offset:
 *   src/flb_strptime.c's %z accepts `+hh:mm`), kept in the record (Time_Keep).
 */
export function renderParsersConf(): string {
    return [
        "[PARSER]",
        "    Name        nginx-syslog",
        "    Format      regex",
        "    Regex       ^(?:\\<(?<pri>[0-9]+)\\>[^ ]* {1,2}[^ ]* [^ ]* (?<ident>[a-zA-Z0-9_\\/\\.\\-]*)(?:\\[[0-9]+\\])?: )?(?<message>[\\s\\S]*)$",
        "",
        "[PARSER]",
        "    Name        nginx-json",
        "    Format      json",
        "    Time_Key    time",
        "    Time_Format %Y-%m-%dT%H:%M:%S%z",
        "    Time_Keep   On",
        "",
    ].join("\n");
}

/** fluent-bit.conf for the gateway's pod (`layout` must send the log over UDP). */
export function renderFluentBitConf(gateway: GatewayConfig, layout: SidecarLayout = POD_LAYOUT): string {
    if (!("udpPort" in layout.syslog)) {
        throw new Error("fluent-bit reads the access log on UDP: the layout's syslog target must be a udpPort");
    }
    const datedTag = (suffix: string) => `$1-$2$3/\${${POD_NAME_ENV}}${suffix}`;
    return [
        "[SERVICE]",
        "    Flush                     1",
        // On SIGTERM fluent-bit stops its inputs and flushes for up to Grace seconds.
        `    Grace                     ${FLUENT_BIT_GRACE_SECONDS}`,
        "    Daemon                    off",
        `    Parsers_File              ${FLUENT_BIT_CONFIG_DIR}/parsers.conf`,
        "    HTTP_Server               On",
        "    HTTP_Listen               0.0.0.0",
        `    HTTP_PORT                 ${FLUENT_BIT_HTTP_PORT}`,
        "    Log_Level                 info",
        // Filesystem buffering (src/flb_input_chunk.c): an input with storage.type filesystem is
        // never paused for memory (Mem_Buf_Limit is not applied to it), and only by
        // storage.pause_on_chunks_overlimit (default off). The path is a tmpfs emptyDir (see
        // ACCESS_LOG_SIZING): fast, and kept across a restart of the container (the backlog is
        // read again when fluent-bit starts).
        `    storage.path              ${FLUENT_BIT_STORAGE_DIR}/storage`,
        "    storage.sync              normal",
        `    storage.max_chunks_up     ${ACCESS_LOG_SIZING.maxChunksUp}`,
        "",
        "[INPUT]",
        "    Name                syslog",
        `    Tag                 ${INPUT_TAG}`,
        // UDP on loopback only: plugins/in_syslog/syslog_conf.c (Listen/Port default 0.0.0.0:5140).
        "    Mode                udp",
        "    Listen              127.0.0.1",
        `    Port                ${layout.syslog.udpPort}`,
        "    Parser              nginx-syslog",
        // One datagram is one record, read into a buffer of Buffer_Chunk_Size (default 32k,
        // plugins/in_syslog/syslog.h): 64k holds the largest UDP datagram.
        "    Buffer_Chunk_Size   64k",
        "    Buffer_Max_Size     64k",
        // setsockopt(SO_RCVBUF) on the UDP socket (syslog_server.c, src/flb_network.c): queued
        // datagrams wait here while fluent-bit is busy; Linux grants at most net.core.rmem_max.
        `    Receive_Buffer_Size ${receiveBufferBytes(gateway)}`,
        "    storage.type        filesystem",
        "",
        // Reserve_Data Off, Preserve_Key Off (plugins/filter_parser/filter_parser.c): a parsed record
        // is nginx's JSON alone, its time nginx's; the syslog fields and the raw `message` are not
        // kept. A record that does not parse is left as it was (with `message`).
        "[FILTER]",
        "    Name         parser",
        `    Match        ${INPUT_TAG}`,
        "    Key_Name     message",
        "    Parser       nginx-json",
        "    Reserve_Data Off",
        "    Preserve_Key Off",
        "",
        "[FILTER]",
        "    Name   lua",
        `    Match  ${INPUT_TAG}`,
        `    script ${FLUENT_BIT_CONFIG_DIR}/${LUA_SCRIPT}`,
        `    call   ${LUA_FUNCTION}`,
        "",
        // The tag is the file: the day nginx wrote in `time` (its TZ is the gateway's time zone),
        // or the day a record that did not parse was received; the pod's name (env, expanded when
        // fluent-bit loads the file) keeps two pods on one node out of each other's files. The
        // original record is not kept (Keep false).
        // The emitter (plugins/filter_rewrite_tag/rewrite_tag.c) re-ingests the records; with its
        // default memory storage it pauses at Emitter_Mem_Buf_Limit (default 10M) and then the
        // record is dropped without an error. Filesystem storage never pauses it (see above).
        "[FILTER]",
        "    Name                 rewrite_tag",
        `    Match                ${INPUT_TAG}`,
        // No `{n}` in these regexes: fluent-bit expands ${VAR} up to the first "}" of the value
        // (src/flb_env.c flb_env_var_translate), and a `{4}` before ${POD_NAME} stops the expansion.
        `    Rule                 $time ${DAY_REGEX} ${datedTag(ACCESS_FILE_SUFFIX)} false`,
        `    Rule                 $received_at ${DAY_REGEX} ${datedTag(UNPARSED_FILE_SUFFIX)} false`,
        "    Emitter_Name         access_log_by_day",
        "    Emitter_Storage.type filesystem",
        "",
        // Mkdir creates each day's directory; Format plain writes the record as one JSON line.
        "[OUTPUT]",
        "    Name        file",
        `    Match_Regex ${DATED_TAG_REGEX}`,
        `    Path        ${LOG_OUTPUT_DIR}`,
        "    Mkdir       On",
        "    Format      plain",
        "",
    ].join("\n");
}
