import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where serialized event lines go: standard output, a file, memory for tests.
public protocol EventSink: Sendable {
    /// Takes one complete JSON line (with its newline). Called in `seq` order, one call at a time.
    func write(line: [UInt8]) throws
}

/// Collects event lines in memory, for tests.
public final class MemoryEventSink: EventSink, Sendable {
    private let storage = TrackedMutex<[[UInt8]]>([])

    /// An empty sink.
    public init() {}

    public func write(line: [UInt8]) throws { storage.withLock { $0.append(line) } }

    /// The lines written so far, decoded.
    public var events: [JSONValue] { storage.withLock { $0 }.compactMap { try? JSONParser.parse($0) } }

    /// The raw bytes written so far.
    public var bytes: [UInt8] { storage.withLock { $0.flatMap { $0 } } }
}

/// Appends event lines to a file descriptor (stdout, or `events.jsonl`), one write per line so `| jq`
/// streams.
public final class DescriptorEventSink: EventSink, Sendable {
    private let output: FileDescriptorOutput

    /// A sink writing to `descriptor`.
    public init(descriptor: Int32) { output = FileDescriptorOutput(descriptor: descriptor) }

    public func write(line: [UInt8]) throws { try output.write(line) }
}

/// The run's event stream (DESIGN.md §7.5): flat JSON objects, one per line, with the reserved keys
/// `v` (schema version), `ts` (RFC 3339 UTC with milliseconds), `run_id`, `seq` (strictly increasing)
/// and `event`. Every line goes through the secret masker and then to every sink in order.
///
/// ```json
/// {"event":"step_complete","bytes":18342,"duration_ms":41,"rows_read":1000,"rows_written":1000,"run_id":"20261127T021500Z-k3f9q2","seq":5,"step_id":"write-orders","ts":"2026-11-27T02:15:00.412Z","v":1}
/// ```
public final class EventStream: Sendable {
    /// The event schema version; renaming or removing a field raises it.
    public static let schemaVersion = 1

    /// The run the events belong to.
    public let runID: String
    private let sinks: [any EventSink]
    private let masker: SecretMasker
    private let state: TrackedMutex<(seq: Int, failedSink: Bool)>
    private let clock: @Sendable () -> String

    /// A stream for `runID`; `firstSeq` continues a resumed run's numbering.
    public init(
        runID: String, sinks: [any EventSink], masker: SecretMasker, firstSeq: Int = 1,
        clock: @escaping @Sendable () -> String = { UTCTimestamp.now() }
    ) {
        self.runID = runID
        self.sinks = sinks
        self.masker = masker
        self.clock = clock
        state = TrackedMutex((firstSeq, false))
    }

    /// The `seq` the next event gets.
    public var nextSeq: Int { state.withLock { $0.seq } }

    /// Emits one event; `fields` must not use the reserved keys. Errors from a sink (a closed pipe)
    /// are returned so the caller can stop; the other sinks still get the line.
    @discardableResult
    public func emit(_ event: String, _ fields: [String: JSONValue] = [:]) -> (any Error)? {
        state.withLock { state -> (any Error)? in
            var members = masker.mask(JSONValue.object(fields)).objectValue ?? [:]
            members["v"] = .int(Self.schemaVersion)
            members["ts"] = .string(clock())
            members["run_id"] = .string(runID)
            members["seq"] = .int(state.seq)
            members["event"] = .string(event)
            state.seq += 1
            let line = JSONWriter.line(.object(members))
            var firstError: (any Error)?
            for sink in sinks {
                do {
                    try sink.write(line: line)
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            return firstError
        }
    }
}

/// Timestamps as the event stream writes them: RFC 3339, UTC, milliseconds, `Z`.
public enum UTCTimestamp {
    /// Now, as `2026-11-27T02:15:00.123Z`.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec) / 1_000_000)
    }

    /// Seconds since the epoch and milliseconds as RFC 3339 UTC.
    public static func format(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }

    /// `value` with leading zeros to `width` digits.
    private static func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// The compact form used in run ids: `20261127T021500Z`.
    public static func compact(seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return "\(pad(parts.tm_year + 1900, 4))\(pad(parts.tm_mon + 1, 2))\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2))\(pad(parts.tm_min, 2))\(pad(parts.tm_sec, 2))Z"
    }
}

/// A monotonic clock in milliseconds, for durations.
public enum MonotonicClock {
    /// Milliseconds since an arbitrary fixed point.
    public static func milliseconds() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int(spec.tv_sec) * 1000 + Int(spec.tv_nsec) / 1_000_000
    }
}
