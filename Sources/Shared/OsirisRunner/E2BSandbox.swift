import OsirisCore
import OsirisHTTP
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where and how `--sandbox e2b` reaches E2B, read as E2B's official SDKs read it: the key from
/// `E2B_API_KEY`, the API at `E2B_API_URL` (else `https://api.<E2B_DOMAIN>`, the domain defaulting
/// to `e2b.app`), envd at `E2B_SANDBOX_URL` (else `https://49983-<sandbox id>.<domain>`). Plain
/// `http://` is allowed only for loopback hosts, so the key never crosses a network in clear.
/// `OSIRIS_E2B_LIFETIME` (seconds, default 300) is how long a sandbox outlives a host that was
/// killed: the host renews it every third of that while the worker runs.
public struct E2BSettings: Sendable {
    /// The template used when neither `--e2b-template` nor `E2B_TEMPLATE` names one.
    public static let defaultTemplate = "base"
    /// The port envd listens on inside every sandbox.
    static let envdPort = 49983

    /// The API key (`X-API-Key`).
    var apiKey: String
    /// The template the sandbox is created from.
    var template: String
    /// The control-plane API, without a trailing slash.
    var apiURL: String
    /// envd's URL when one is fixed for every sandbox (`E2B_SANDBOX_URL`).
    var sandboxURL: String?
    /// The domain sandboxes live under when no sandbox URL is fixed.
    var domain: String
    /// Seconds a sandbox lives without being renewed: what remains of it after the host is killed.
    var lifetimeSeconds = 300
    /// Timeouts of the API and envd's unary calls.
    var timeouts = HTTPTimeouts(connectMilliseconds: 10_000, totalMilliseconds: 60_000)
    /// Timeouts of one upload (the worker and its libraries are tens of megabytes).
    var uploadTimeouts = HTTPTimeouts(connectMilliseconds: 10_000, totalMilliseconds: 600_000, idleSeconds: 60)

    /// Reads the settings from `environment`; `template` (`--e2b-template`) wins over `E2B_TEMPLATE`.
    /// Throws a configuration error (78) when the key is unset or an endpoint is not https (or
    /// http on loopback).
    public init(environment: [String: String], template: String?) throws(SandboxError) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let key = value("E2B_API_KEY") else {
            throw SandboxError("--sandbox e2b needs an API key in E2B_API_KEY", .configuration)
        }
        apiKey = key
        self.template = template ?? value("E2B_TEMPLATE") ?? Self.defaultTemplate
        domain = value("E2B_DOMAIN") ?? "e2b.app"
        apiURL = Self.trimmed(value("E2B_API_URL") ?? "https://api.\(domain)")
        sandboxURL = value("E2B_SANDBOX_URL").map(Self.trimmed)
        if let lifetime = value("OSIRIS_E2B_LIFETIME") {
            guard let seconds = Int(lifetime), seconds > 0 else {
                throw SandboxError("OSIRIS_E2B_LIFETIME '\(lifetime)' is not a number of seconds", .configuration)
            }
            lifetimeSeconds = seconds
        }
        for (name, url) in [("E2B_API_URL", apiURL), ("E2B_SANDBOX_URL", sandboxURL ?? "https://\(domain)")] {
            try Self.check(url, name: name)
        }
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// https anywhere, http only on loopback.
    private static func check(_ url: String, name: String) throws(SandboxError) {
        if url.hasPrefix("https://") { return }
        guard url.hasPrefix("http://") else { throw SandboxError("\(name) '\(url)' is not an http(s) URL", .configuration) }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }) + "]" : String(authority.prefix { $0 != ":" })
        guard ["127.0.0.1", "localhost", "[::1]"].contains(host) else {
            throw SandboxError("\(name) '\(url)' uses plain http, which is allowed only on loopback (127.0.0.1, localhost, [::1])", .configuration)
        }
    }
}

/// A worker in an E2B sandbox (osiris-exec(1), "E2B"): the sandbox is created through the API
/// (`POST /sandboxes`), this binary and the shared libraries it has mapped are uploaded through
/// envd's files API, and `osiris-exec --worker` is started through envd's process API (Connect
/// protocol, JSON codec): `process.Process/Start` is a server stream whose `data.stdout` events
/// are the worker's messages, and each request line goes in with `SendInput`. Seen from the host it
/// is a pair of pipes like a local child's. The sandbox is deleted when the worker is waited for or
/// killed, and lives at most `lifetimeSeconds` after the host stops renewing it.
final class E2BWorker: WorkerTransport {
    let requests: Int32
    let messages: Int32
    private let requestSource: Int32
    private let messageSink: Int32

    private struct State {
        var pid: Int?
        var startFailure: SandboxError?
        var streamEnded = false
        var exitCode: Int32 = 0
        var deleted = false
        var aborted = false
        var pumpEnded = false
    }

    private let settings: E2BSettings
    private let sandboxID: String
    private let envdURL: String
    private let envdHeaders: [String]
    private let onStandardError: (@Sendable ([UInt8]) -> Void)?
    private let state = TrackedMutex(State())
    private let changes = ChangeSignal()

    private init(
        settings: E2BSettings, sandboxID: String, envdURL: String, envdHeaders: [String],
        onStandardError: (@Sendable ([UInt8]) -> Void)?, pipes: (requests: [Int32], messages: [Int32])
    ) {
        self.settings = settings
        self.sandboxID = sandboxID
        self.envdURL = envdURL
        self.envdHeaders = envdHeaders
        self.onStandardError = onStandardError
        requests = pipes.requests[1]
        requestSource = pipes.requests[0]
        messages = pipes.messages[0]
        messageSink = pipes.messages[1]
    }

    /// Creates a sandbox, uploads `executable` with its libraries, starts the worker and waits for
    /// envd to report its pid. On any failure the sandbox is deleted and the error says why: 69 the
    /// API or envd is unreachable, 77 the key or access token is rejected, 78 the template is
    /// refused, 75 a timeout or rate limit.
    static func start(
        settings: E2BSettings, executable: String, libraries: [String], onStandardError: (@Sendable ([UInt8]) -> Void)?
    ) throws(SandboxError) -> E2BWorker {
        let api = CurlTransport(timeouts: settings.timeouts)
        let created = try call(api, HTTPRequest(
            method: "POST", url: settings.apiURL + "/sandboxes", headers: ["X-API-Key: \(settings.apiKey)", "Content-Type: application/json"],
            body: JSONWriter.line([
                "templateID": .string(settings.template), "timeout": .int(settings.lifetimeSeconds),
                "metadata": ["created_by": "osiris-exec"],
            ])), what: "create an E2B sandbox from template '\(settings.template)'", templateRefused: true)
        let sandbox: JSONValue
        do {
            sandbox = try JSONParser.parse(created)
        } catch {
            throw SandboxError("the E2B API answered POST /sandboxes with something that is not JSON", .unavailable)
        }
        guard let sandboxID = sandbox["sandboxID"]?.stringValue, !sandboxID.isEmpty else {
            throw SandboxError("the E2B API created a sandbox without a sandboxID", .unavailable)
        }
        let domain = sandbox["domain"]?.stringValue ?? settings.domain
        let envdURL = settings.sandboxURL ?? "https://\(E2BSettings.envdPort)-\(sandboxID).\(domain)"
        var envdHeaders = ["E2b-Sandbox-Id: \(sandboxID)", "E2b-Sandbox-Port: \(E2BSettings.envdPort)"]
        if let token = sandbox["envdAccessToken"]?.stringValue, !token.isEmpty { envdHeaders.append("X-Access-Token: \(token)") }

        var requestPipe: [Int32] = [-1, -1]
        var messagePipe: [Int32] = [-1, -1]
        guard pipe(&requestPipe) == 0, pipe(&messagePipe) == 0 else {
            deleteSandbox(settings: settings, id: sandboxID)
            throw SandboxError("cannot create a pipe: \(systemMessage(errno))", .software)
        }
        for descriptor in requestPipe + messagePipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        let worker = E2BWorker(
            settings: settings, sandboxID: sandboxID, envdURL: envdURL, envdHeaders: envdHeaders, onStandardError: onStandardError,
            pipes: (requestPipe, messagePipe))
        // Renewed from now on: the uploads alone may outlast a short lifetime.
        startThread { [worker] in worker.renew() }
        do throws(SandboxError) {
            try worker.launch(executable: executable, libraries: libraries)
        } catch {
            worker.kill()
            worker.wait()
            throw error
        }
        return worker
    }

    // MARK: Starting

    private func launch(executable: String, libraries: [String]) throws(SandboxError) {
        var token = [UInt8](repeating: 0, count: 8)
        for index in token.indices { token[index] = UInt8.random(in: 0...255) }
        let folder = "/tmp/osiris-" + token.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let loader = libraries.first { $0.split(separator: "/").last?.hasPrefix("ld-linux") == true }
        for (source, target) in [(executable, folder + "/osiris-exec")] + libraries.map({ ($0, folder + "/lib/" + Self.name($0)) }) {
            try upload(source, to: target)
        }
        // The uploaded loader runs the worker against the uploaded libraries, so the template's own
        // C library and Swift runtime (or their absence) do not matter.
        let command = loader.map { "chmod 700 lib/\(Self.name($0)) && exec ./lib/\(Self.name($0)) --library-path ./lib ./osiris-exec --worker" }
            ?? "chmod 700 osiris-exec && LD_LIBRARY_PATH=./lib exec ./osiris-exec --worker"
        let body = JSONWriter.line([
            "process": ["cmd": "/bin/sh", "args": ["-c", .string(command)], "envs": [:], "cwd": .string(folder)],
            "stdin": true,
        ])
        startThread { [self] in stream(body: Self.envelope(Array(body.dropLast()))) }
        startThread { [self] in pump() }
        let outcome = changes.wait(deadline: MonotonicClock.milliseconds() + settings.timeouts.totalMilliseconds) {
            state.withLock { state -> Result<Int, SandboxError>? in
                if let failure = state.startFailure { return .failure(failure) }
                if let pid = state.pid { return .success(pid) }
                if state.streamEnded { return .failure(SandboxError("envd ended the worker's process stream before it started", .unavailable)) }
                return nil
            }
        }
        switch outcome {
        case .success: return
        case .failure(let error): throw error
        case nil: throw SandboxError("envd did not start the worker within \(settings.timeouts.totalMilliseconds / 1000) s", .temporaryFailure)
        }
    }

    private static func name(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    /// Uploads one file through envd's files API (`POST /files?path=`, multipart form data).
    private func upload(_ source: String, to target: String) throws(SandboxError) {
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(source)
        } catch {
            throw SandboxError("cannot read '\(source)' to upload it: \(error)", .noInput)
        }
        let boundary = "osiris-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(Self.name(target))\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        _ = try Self.call(CurlTransport(timeouts: settings.uploadTimeouts), HTTPRequest(
            method: "POST", url: envdURL + "/files?path=" + Self.percentEncoded(target),
            headers: envdHeaders + ["Content-Type: multipart/form-data; boundary=\(boundary)"], body: body),
            what: "upload '\(Self.name(source))' into the E2B sandbox")
    }

    // MARK: The process stream

    /// Runs `process.Process/Start` and relays its events until the stream ends.
    private func stream(body: [UInt8]) {
        var decoder = ConnectEnvelopes()
        let transport = CurlTransport(timeouts: HTTPTimeouts(
            connectMilliseconds: settings.timeouts.connectMilliseconds, totalMilliseconds: 0, idleSeconds: 3 * Self.keepaliveSeconds))
        let request = HTTPRequest(
            method: "POST", url: envdURL + "/process.Process/Start",
            headers: envdHeaders + [
                "Content-Type: application/connect+json", "Connect-Protocol-Version: 1", "Keepalive-Ping-Interval: \(Self.keepaliveSeconds)",
            ],
            body: body)
        let messageSink = self.messageSink
        var failure: SandboxError?
        do {
            let response = try transport.send(request, onData: { [self] piece in
                for (flags, payload) in decoder.feed(piece) {
                    if flags & 0x02 != 0 {
                        if let error = (try? JSONParser.parse(payload))?["error"], failure == nil {
                            failure = SandboxError("envd ended the worker's process stream: \(error["message"]?.stringValue ?? error["code"]?.stringValue ?? "error")", .unavailable)
                        }
                        continue
                    }
                    guard let event = (try? JSONParser.parse(payload))?["event"] else { continue }
                    if let pid = event["start"]?["pid"]?.intValue {
                        state.withLock { $0.pid = pid }
                        changes.notify()
                    } else if let data = event["data"] {
                        if let stdout = data["stdout"]?.stringValue, let bytes = Base64.decode(stdout) {
                            Self.writeAll(bytes, to: messageSink)
                        } else if let stderr = data["stderr"]?.stringValue, let bytes = Base64.decode(stderr) {
                            onStandardError?(bytes)
                        }
                    } else if let end = event["end"] {
                        state.withLock { $0.exitCode = Int32(truncatingIfNeeded: end["exitCode"]?.intValue ?? 0) }
                    }
                }
            }, keepsStreamedBody: false, shouldAbort: { [self] in state.withLock { $0.aborted } })
            if !(200..<300).contains(response.status) {
                failure = Self.failure(status: response.status, body: response.body, what: "start the worker in the E2B sandbox")
            }
        } catch {
            if !state.withLock({ $0.aborted }) { failure = Self.failure(error, what: "stream the worker's output from the E2B sandbox") }
        }
        close(messageSink)
        state.withLock { state in
            state.streamEnded = true
            if state.pid == nil, state.startFailure == nil { state.startFailure = failure }
        }
        changes.notify()
    }

    /// Seconds between envd's keepalive events on the stream (what the SDKs ask for).
    static let keepaliveSeconds = 50

    /// Sends what the host writes to `requests` with `SendInput`, whole lines at a time, and closes
    /// the worker's input (`CloseStdin`) when the host closes its end.
    private func pump() {
        let pid = changes.wait { state.withLock { state -> Int? in state.pid ?? (state.streamEnded || state.aborted ? -1 : nil) } }
        guard let pid, pid >= 0 else {
            close(requestSource)
            state.withLock { $0.pumpEnded = true }
            changes.notify()
            return
        }
        let transport = CurlTransport(timeouts: settings.timeouts)
        let process: JSONValue = ["pid": .int(pid)]
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var open = true
        while open {
            let count = chunk.withUnsafeMutableBytes { read(requestSource, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { open = false } else { pending.append(contentsOf: chunk[0..<count]) }
            // A line is sent whole once it is complete and nothing more is waiting in the pipe.
            guard !pending.isEmpty, !open || (pending.last == UInt8(ascii: "\n") && !Self.readable(requestSource)) || pending.count >= 4 << 20
            else { continue }
            let body = JSONWriter.line(["process": process, "input": ["stdin": .string(Base64.encode(pending[...]))]])
            pending.removeAll(keepingCapacity: true)
            if state.withLock({ $0.aborted }) { break }
            do {
                _ = try Self.call(transport, HTTPRequest(
                    method: "POST", url: envdURL + "/process.Process/SendInput",
                    headers: envdHeaders + ["Content-Type: application/json", "Connect-Protocol-Version: 1"], body: body),
                    what: "send input to the worker in the E2B sandbox")
            } catch {
                onStandardError?(Array("osiris-exec: \(error.description)\n".utf8))
                kill()
                break
            }
        }
        if !state.withLock({ $0.aborted }) {
            _ = try? transport.send(HTTPRequest(
                method: "POST", url: envdURL + "/process.Process/CloseStdin",
                headers: envdHeaders + ["Content-Type: application/json", "Connect-Protocol-Version: 1"],
                body: JSONWriter.line(["process": process])), onData: nil)
        }
        close(requestSource)
        state.withLock { $0.pumpEnded = true }
        changes.notify()
    }

    /// Renews the sandbox's lifetime while the worker runs, so a host that is killed leaves a
    /// sandbox that ends by itself soon after.
    private func renew() {
        let transport = CurlTransport(timeouts: settings.timeouts)
        let period = max(settings.lifetimeSeconds / 3, 1) * 1000
        while true {
            let deadline = MonotonicClock.milliseconds() + period
            let over = changes.wait(deadline: deadline) { state.withLock { $0.deleted || $0.aborted || $0.streamEnded ? true : nil } }
            if over != nil { return }
            _ = try? transport.send(HTTPRequest(
                method: "POST", url: settings.apiURL + "/sandboxes/\(sandboxID)/timeout",
                headers: ["X-API-Key: \(settings.apiKey)", "Content-Type: application/json"],
                body: JSONWriter.line(["timeout": .int(settings.lifetimeSeconds)])), onData: nil)
        }
    }

    // MARK: WorkerTransport

    func closeRequests() { close(requests) }

    /// Ends the stream and deletes the sandbox (and the worker with it).
    func kill() {
        state.withLock { $0.aborted = true }
        changes.notify()
        deleteOnce()
    }

    /// Waits for the worker's stream to end (at most a minute once its input is closed), deletes the
    /// sandbox and returns the worker's exit status as a wait status.
    @discardableResult
    func wait() -> Int32 {
        let ended = changes.wait(deadline: MonotonicClock.milliseconds() + 60_000) { state.withLock { $0.streamEnded ? true : nil } }
        if ended == nil { kill() }
        deleteOnce()
        _ = changes.wait(deadline: MonotonicClock.milliseconds() + 10_000) { state.withLock { $0.streamEnded && $0.pumpEnded ? true : nil } }
        close(messages)
        return state.withLock { ($0.exitCode & 0xFF) << 8 }
    }

    private func deleteOnce() {
        let first = state.withLock { state -> Bool in
            defer { state.deleted = true }
            return !state.deleted
        }
        if first { Self.deleteSandbox(settings: settings, id: sandboxID) }
    }

    private static func deleteSandbox(settings: E2BSettings, id: String) {
        _ = try? CurlTransport(timeouts: settings.timeouts).send(
            HTTPRequest(method: "DELETE", url: settings.apiURL + "/sandboxes/\(id)", headers: ["X-API-Key: \(settings.apiKey)"]), onData: nil)
    }

    // MARK: HTTP

    /// Sends `request` and returns a 2xx body, or throws the error its outcome maps to.
    private static func call(
        _ transport: CurlTransport, _ request: HTTPRequest, what: String, templateRefused: Bool = false
    ) throws(SandboxError) -> [UInt8] {
        let response: HTTPResponse
        do {
            response = try transport.send(request, onData: nil)
        } catch {
            throw failure(error, what: what)
        }
        guard (200..<300).contains(response.status) else {
            throw failure(status: response.status, body: response.body, what: what, templateRefused: templateRefused)
        }
        return response.body
    }

    private static func failure(_ error: TransportFailure, what: String) -> SandboxError {
        switch error {
        case .unreachable(let reason): SandboxError("cannot \(what): \(reason)", .unavailable)
        case .timedOut(let reason): SandboxError("cannot \(what): \(reason)", .temporaryFailure)
        }
    }

    private static func failure(status: Int, body: [UInt8], what: String, templateRefused: Bool = false) -> SandboxError {
        let detail = (try? JSONParser.parse(body)).flatMap { $0["message"]?.stringValue ?? $0["error"]?["message"]?.stringValue }
            ?? String(decoding: body.prefix(200), as: UTF8.self)
        let message = "cannot \(what): HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")"
        switch status {
        case 401, 403: return SandboxError(message, .permissionDenied)
        case 429, 503, 408: return SandboxError(message, .temporaryFailure)
        case 400, 404 where templateRefused: return SandboxError(message, .configuration)
        default: return SandboxError(message, .unavailable)
        }
    }

    /// A Connect envelope: flags, the big-endian length, the message.
    static func envelope(_ message: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        let count = UInt32(message.count)
        return [flags, UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + message
    }

    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }

    private static func readable(_ descriptor: Int32) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 1) > 0
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return }
            sent += count
        }
    }
}

/// Splits a Connect stream into its envelopes (one flags byte, a 4-byte big-endian length, the
/// message), however the bytes are cut.
struct ConnectEnvelopes {
    private var pending: [UInt8] = []

    /// The envelopes completed by `bytes`: their flags and messages.
    mutating func feed(_ bytes: [UInt8]) -> [(flags: UInt8, message: [UInt8])] {
        pending.append(contentsOf: bytes)
        var result: [(flags: UInt8, message: [UInt8])] = []
        var start = 0
        while pending.count - start >= 5 {
            let length = Int(pending[start + 1]) << 24 | Int(pending[start + 2]) << 16 | Int(pending[start + 3]) << 8 | Int(pending[start + 4])
            guard pending.count - start - 5 >= length else { break }
            result.append((pending[start], Array(pending[(start + 5)..<(start + 5 + length)])))
            start += 5 + length
        }
        pending.removeFirst(start)
        return result
    }
}

/// The shared libraries this process has mapped (the worker is the same binary, so they are what
/// it needs), the dynamic loader among them; what ldd would list, without running it.
func mappedLibraries() -> [String] {
    guard let maps = try? InputFile.read("/proc/self/maps") else { return [] }
    var files: Set<String> = []
    for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") {
        guard let slash = line.firstIndex(of: "/") else { continue }
        let path = String(line[slash...])
        guard path.contains(".so"), !path.hasSuffix(" (deleted)") else { continue }
        files.insert(path)
    }
    return files.sorted()
}
