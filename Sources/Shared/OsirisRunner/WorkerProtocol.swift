import OML
import OsirisCore
import OsirisDrivers
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The worker protocol (DESIGN.md §7.6, osiris-worker(7)): JSON-RPC 2.0 over the worker's standard
/// input and output, one message per line, keys sorted. The host sends requests; the worker answers
/// each with a response carrying the same `id`, and while `run` is under way sends `event`
/// notifications, one per run event, in `seq` order:
///
/// ```json
/// {"id":1,"jsonrpc":"2.0","method":"hello","params":{"heartbeat_ms":10000,"protocol":1}}
/// {"id":1,"jsonrpc":"2.0","result":{"capabilities":["heartbeat","put_file","read_artifact"],"protocol":1,"version":"0.1.0"}}
/// {"jsonrpc":"2.0","method":"heartbeat","params":{}}
/// {"jsonrpc":"2.0","method":"event","params":{"event":"step_start","attempt":1,"component":"filesystem.csv_extractor","run_id":"20261127T021500Z-k3f9q2","seq":2,"step_id":"extract","ts":"2026-11-27T02:15:00.101Z","v":1}}
/// ```
///
/// The types are values converted to and from `JSONValue` (the codebase's canonical JSON, no
/// Foundation), each documented with its wire form.
package enum WorkerProtocol {
    /// The protocol version `hello` exchanges; a worker refuses another.
    package static let version = 1
    /// The most bytes one `put_file` or `read_artifact` chunk carries (before base64).
    package static let chunkSize = 1 << 20
}

/// One JSON-RPC 2.0 message: a request (`id` and `method`), a notification (`method`, no `id`) or a
/// response (`id` and `result` or `error`).
package struct WorkerMessage: Sendable {
    /// The request id; nil for a notification.
    package var id: Int?
    /// The method of a request or notification.
    package var method: String?
    /// The parameters of a request or notification.
    package var params: JSONValue
    /// The result of a successful response.
    package var result: JSONValue?
    /// The error of a failed response: `{"code":-32000,"message":"..."}`.
    package var error: WorkerError?

    /// A request.
    package static func request(_ id: Int, _ method: String, _ params: JSONValue = [:]) -> WorkerMessage {
        WorkerMessage(id: id, method: method, params: params)
    }

    /// A notification.
    package static func notification(_ method: String, _ params: JSONValue = [:]) -> WorkerMessage {
        WorkerMessage(id: nil, method: method, params: params)
    }

    /// A successful response.
    package static func response(_ id: Int, _ result: JSONValue) -> WorkerMessage {
        WorkerMessage(id: id, method: nil, params: .null, result: result)
    }

    /// A failed response.
    package static func failure(_ id: Int, _ error: WorkerError) -> WorkerMessage {
        WorkerMessage(id: id, method: nil, params: .null, error: error)
    }

    /// The message as one JSON line.
    package var line: [UInt8] {
        var object: [String: JSONValue] = ["jsonrpc": "2.0"]
        if let id { object["id"] = .int(id) }
        if let method {
            object["method"] = .string(method)
            object["params"] = params
        }
        if let result { object["result"] = result }
        if let error { object["error"] = ["code": .int(error.code), "message": .string(error.message)] }
        return JSONWriter.line(.object(object))
    }

    /// Decodes one line; throws a protocol error for anything that is not a JSON-RPC 2.0 message.
    package init(line: [UInt8]) throws(WorkerError) {
        let json: JSONValue
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw WorkerError(.parse, "a message does not decode as JSON: \(error)")
        }
        guard json["jsonrpc"]?.stringValue == "2.0" else { throw WorkerError(.invalidRequest, "a message is not JSON-RPC 2.0") }
        id = json["id"]?.intValue
        method = json["method"]?.stringValue
        params = json["params"] ?? [:]
        result = json["result"]
        if let error = json["error"] {
            self.error = WorkerError(code: error["code"]?.intValue ?? WorkerError.serverError, message: error["message"]?.stringValue ?? "")
        }
        if method == nil, id == nil { throw WorkerError(.invalidRequest, "a message has neither an id nor a method") }
    }

    private init(id: Int?, method: String?, params: JSONValue, result: JSONValue? = nil, error: WorkerError? = nil) {
        self.id = id
        self.method = method
        self.params = params
        self.result = result
        self.error = error
    }
}

/// A JSON-RPC error: the standard codes (-32700 parse, -32600 invalid request, -32601 unknown method,
/// -32602 bad params) or -32000 for a request the worker could not carry out.
package struct WorkerError: Error, Sendable, CustomStringConvertible {
    /// JSON-RPC's standard error codes.
    package enum Kind: Int {
        case parse = -32700, invalidRequest = -32600, unknownMethod = -32601, invalidParams = -32602, server = -32000
    }

    /// The code for a request the worker could not carry out.
    package static let serverError = Kind.server.rawValue

    /// The JSON-RPC error code.
    package var code: Int
    /// What went wrong; never a secret.
    package var message: String

    /// An error of `kind`.
    package init(_ kind: Kind, _ message: String) {
        code = kind.rawValue
        self.message = message
    }

    /// An error with a code read from the wire.
    package init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

/// `prepare`'s parameters: the manifest and, per step, its connection resolved by the host (or the
/// error resolving it gave, raised when the step starts, as in a local run).
///
/// ```json
/// {"connections":{"extract":{"connection":{"family":"postgres","fields":{"host":"db","password":"s3cret"},"reference":"@pg.shop"}},"write":null},"manifest":{...}}
/// ```
package struct PrepareParams: Sendable {
    /// The manifest.
    package var manifest: Manifest
    /// The connection of each step that needs one.
    package var connections: [String: PreparedConnection]

    /// Parameters for `manifest`.
    package init(manifest: Manifest, connections: [String: PreparedConnection]) {
        self.manifest = manifest
        self.connections = connections
    }

    /// The wire form.
    package var json: JSONValue {
        var steps: [String: JSONValue] = [:]
        for (id, connection) in connections {
            switch connection {
            case .resolved(let resolved):
                steps[id] = ["connection": [
                    "reference": .string(resolved.reference), "family": .string(resolved.family), "fields": .object(resolved.fields),
                ]]
            case .failed(let error):
                steps[id] = ["error": Runner.json(error)]
            }
        }
        return ["manifest": manifest.json(), "connections": .object(steps)]
    }

    /// Decodes the wire form.
    package init(json: JSONValue) throws(WorkerError) {
        guard let manifestJSON = json["manifest"] else { throw WorkerError(.invalidParams, "prepare needs a manifest") }
        do {
            manifest = try Manifest.decode(JSONWriter.line(manifestJSON), path: "<prepare>")
        } catch {
            throw WorkerError(.invalidParams, "the manifest does not decode: \(error)")
        }
        connections = [:]
        for (id, entry) in json["connections"]?.objectValue ?? [:] {
            if let connection = entry["connection"] {
                connections[id] = .resolved(ResolvedConnection(
                    reference: connection["reference"]?.stringValue ?? "", family: connection["family"]?.stringValue ?? "",
                    fields: connection["fields"]?.objectValue ?? [:]))
            } else if let error = entry["error"] {
                let code = StepError.Code(rawValue: error["code"]?.stringValue ?? "") ?? .configuration
                connections[id] = .failed(StepError(code, error["message"]?.stringValue ?? "", retryable: error["retryable"]?.boolValue))
            }
        }
    }
}

/// A step's connection as the host resolved it for a worker.
package enum PreparedConnection: Sendable {
    /// The resolved connection, secrets included (held in memory only).
    case resolved(ResolvedConnection)
    /// The error resolving it gave (an unset variable, an unknown alias).
    case failed(StepError)
}

/// `run`'s parameters: `{"adapter":"sandbox","isolation":"none","jobs":2,"run_id":"20261127T021500Z-k3f9q2"}`,
/// with `"resume":{"committed":["load"],"first_seq":14}` when the host resumes a run (`--resume`).
/// Its result: `{"exit_code":0,"failed_steps":[{"code":"RUN","message":"...","step_id":"load"}],"status":"success"}`.
package struct RunParams: Sendable {
    /// The run id the host chose (the host's run directory has this name).
    package var runID: String
    /// What `run_start` says in `adapter`.
    package var adapter: String
    /// What `run_start` says in `isolation`.
    package var isolation: String
    /// How many steps run at once.
    package var jobs: Int
    /// What the host's earlier run of this directory left, when it resumes one.
    package var resume: ResumeParams?

    package init(runID: String, adapter: String, isolation: String, jobs: Int) {
        self.runID = runID
        self.adapter = adapter
        self.isolation = isolation
        self.jobs = jobs
    }

    /// The wire form.
    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "run_id": .string(runID), "adapter": .string(adapter), "isolation": .string(isolation), "jobs": .int(jobs),
        ]
        if let resume { object["resume"] = ["committed": .array(resume.committed.map(JSONValue.string)), "first_seq": .int(resume.firstSeq)] }
        return .object(object)
    }
}

/// A resumed run as `run` carries it: the writers that committed in the earlier run (skipped), and
/// the `seq` of the first event of this one.
package struct ResumeParams: Sendable {
    /// The ids of the writers that committed.
    package var committed: [String]
    /// The `seq` the first event gets.
    package var firstSeq: Int
}

/// One file `list_artifacts` reports:
/// `{"bytes":120,"kind":"output","local_path":"/tmp/osiris-worker-x1/work/out/orders.csv","path":"out/orders.csv","sha256":"sha256:…","step_id":"write"}`.
/// `kind` is `output` for a file a writer produced (its path as the manifest names it) or `run` for a
/// file of the run directory (`status.json`, `osiris.log`).
package struct WorkerArtifact: Sendable, Equatable {
    /// output or run.
    package var kind: String
    /// The path as the step named it, or the run directory file's name.
    package var path: String
    /// The step that produced it (empty for run files).
    package var stepID: String
    /// The size in bytes.
    package var bytes: Int
    /// `sha256:` and the hex digest.
    package var sha256: String
    /// The file's absolute path on the worker's side (`local_path`), for a host that shares its folder.
    package var localPath: String = ""

    /// The wire form.
    package var json: JSONValue {
        [
            "kind": .string(kind), "path": .string(path), "step_id": .string(stepID), "bytes": .int(bytes), "sha256": .string(sha256),
            "local_path": .string(localPath),
        ]
    }

    /// Decodes the wire form.
    package init(json: JSONValue) {
        kind = json["kind"]?.stringValue ?? ""
        path = json["path"]?.stringValue ?? ""
        stepID = json["step_id"]?.stringValue ?? ""
        bytes = json["bytes"]?.intValue ?? 0
        sha256 = json["sha256"]?.stringValue ?? ""
        localPath = json["local_path"]?.stringValue ?? ""
    }

    /// An artifact.
    package init(kind: String, path: String, stepID: String, bytes: Int, sha256: String) {
        self.kind = kind
        self.path = path
        self.stepID = stepID
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// Reads newline-terminated lines from a file descriptor.
package final class LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0

    /// A reader of `descriptor`.
    package init(descriptor: Int32) { self.descriptor = descriptor }

    /// The next line without its newline; nil at end of input (a last line without a newline counts).
    package func next() -> [UInt8]? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = start
                if start > 1 << 16, start * 2 > buffer.count {
                    buffer.removeFirst(start)
                    start = 0
                    scanned = 0
                }
                return line
            }
            scanned = buffer.count
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                buffer = []
                start = 0
                scanned = 0
                return line
            }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }
}

/// Base64 (RFC 4648, with padding) for file chunks inside JSON strings.
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// `bytes` encoded.
    package static func encode(_ bytes: ArraySlice<UInt8>) -> String {
        let alphabet = Self.alphabet
        let count = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: count) { output in
            alphabet.withUnsafeBufferPointer { alphabet in
                bytes.withUnsafeBufferPointer { input in
                    var index = 0
                    var position = 0
                    while index + 2 < input.count {
                        let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                        output[position] = alphabet[Int(value >> 18 & 63)]
                        output[position + 1] = alphabet[Int(value >> 12 & 63)]
                        output[position + 2] = alphabet[Int(value >> 6 & 63)]
                        output[position + 3] = alphabet[Int(value & 63)]
                        index += 3
                        position += 4
                    }
                    let rest = input.count - index
                    if rest > 0 {
                        let value = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                        output[position] = alphabet[Int(value >> 18 & 63)]
                        output[position + 1] = alphabet[Int(value >> 12 & 63)]
                        output[position + 2] = rest == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "=")
                        output[position + 3] = UInt8(ascii: "=")
                    }
                }
            }
            return count
        }
    }

    /// `text` decoded; nil when it is not base64.
    package static func decode(_ text: String) -> [UInt8]? {
        var text = text
        let table = Self.reverse
        return text.withUTF8 { input -> [UInt8]? in
            var length = input.count
            while length > 0, input[length - 1] == UInt8(ascii: "=") { length -= 1 }
            guard length % 4 != 1 else { return nil }
            var output = [UInt8](repeating: 0, count: length * 6 / 8)
            let valid = table.withUnsafeBufferPointer { table in
                output.withUnsafeMutableBufferPointer { output -> Bool in
                    var index = 0
                    var position = 0
                    while index + 4 <= length {
                        let a = table[Int(input[index])], b = table[Int(input[index + 1])]
                        let c = table[Int(input[index + 2])], d = table[Int(input[index + 3])]
                        if (a | b | c | d) & 0x80 != 0 { return false }
                        let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                        output[position] = UInt8(truncatingIfNeeded: value >> 16)
                        output[position + 1] = UInt8(truncatingIfNeeded: value >> 8)
                        output[position + 2] = UInt8(truncatingIfNeeded: value)
                        index += 4
                        position += 3
                    }
                    let rest = length - index
                    guard rest >= 2 else { return true }
                    let a = table[Int(input[index])], b = table[Int(input[index + 1])]
                    let c = rest == 3 ? table[Int(input[index + 2])] : 0
                    if (a | b | c) & 0x80 != 0 { return false }
                    let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                    output[position] = UInt8(truncatingIfNeeded: value >> 16)
                    if rest == 3 { output[position + 1] = UInt8(truncatingIfNeeded: value >> 8) }
                    return true
                }
            }
            return valid ? output : nil
        }
    }
}

extension WorkerMessage {
    /// The message's line with a `data` member (base64, which needs no escaping) added first to its
    /// params or result, without passing megabytes through the JSON string escaper. The object must
    /// have no key that sorts before `data`, so the line stays canonical.
    package func line(withData data: String) -> [UInt8] {
        var line = self.line
        let marker = Array((method != nil ? #""params":{"# : #""result":{"#).utf8)
        guard let start = line.firstRange(of: marker) else { return line }
        let empty = line[start.upperBound] == UInt8(ascii: "}")
        line.insert(contentsOf: Array(#""data":""#.utf8) + Array(data.utf8) + Array((empty ? "\"" : "\",").utf8), at: start.upperBound)
        return line
    }
}

/// Whether `path` may be written inside the worker's folder: relative, without `..`.
package func isContainedRelativePath(_ path: String) -> Bool {
    !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
}
