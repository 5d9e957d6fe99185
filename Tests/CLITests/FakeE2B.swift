import Foundation
import LoopbackHTTP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A fake of E2B's HTTP APIs, written from its public specification (spec/openapi.yml for the API,
/// spec/envd/envd.yaml and spec/envd/process/process.proto for envd) and served on loopback, so
/// `osiris-exec --sandbox e2b` is tested end to end against `E2B_API_URL` / `E2B_SANDBOX_URL`:
///
/// - `POST /sandboxes` (`X-API-Key`), `DELETE /sandboxes/{id}`, `POST /sandboxes/{id}/timeout`;
///   a sandbox not renewed within its timeout is killed, as E2B does.
/// - envd (`E2b-Sandbox-Id`, `X-Access-Token`): `POST /files?path=` (multipart) and `GET /files`,
///   over a temporary folder standing for the sandbox's file system.
/// - `process.Process/Start` (Connect server stream, JSON codec): really runs the command as a
///   child (its cwd inside the sandbox's folder), relays its stdout and stderr as `data` events and
///   ends with an `end` event and the end-of-stream envelope; `SendInput`, `CloseStdin`, `SendSignal`.
///
/// Every request is logged (upload bodies as their size only).
final class FakeE2B: Sendable {
    static let apiKey = "e2b_fake_key_0123456789"

    /// One logged request.
    struct LoggedRequest: Sendable {
        var method: String
        var target: String
        var headers: [String: String]
        var body: [UInt8]
    }

    private final class Sandbox: Sendable {
        let id: String
        let token: String
        let root: String
        let expiry: Mutex<Double>
        let processes = Mutex<[Int32: (process: Process, stdin: FileHandle)]>([:])

        init(id: String, token: String, root: String, lifetime: Double) {
            self.id = id
            self.token = token
            self.root = root
            expiry = Mutex(Date().timeIntervalSince1970 + lifetime)
        }

        func killAll() {
            for (pid, _) in processes.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
    }

    private let folder: URL
    private let sandboxes = Mutex<[String: Sandbox]>([:])
    private let log = Mutex<[LoggedRequest]>([])
    private let counter = Mutex(0)
    private let running = Mutex(true)
    private let server: Mutex<LoopbackHTTPServer?> = Mutex(nil)

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-fake-e2b-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let server = try LoopbackHTTPServer { [self] request, response in handle(request, response) }
        self.server.withLock { $0 = server }
        Thread { [self] in expire() }.start()
    }

    /// The base URL of both the API and envd.
    var url: String { server.withLock { $0!.url } }

    /// The environment that points `osiris-exec --sandbox e2b` here.
    var environment: [String: String] {
        ["E2B_API_KEY": Self.apiKey, "E2B_API_URL": url, "E2B_SANDBOX_URL": url]
    }

    /// The requests received so far.
    var requests: [LoggedRequest] { log.withLock { $0 } }

    /// The sandboxes alive.
    var liveSandboxes: [String] { sandboxes.withLock { Array($0.keys) } }

    /// The pids of the workers running in live sandboxes.
    var workerPIDs: [Int32] { sandboxes.withLock { $0.values.flatMap { $0.processes.withLock { Array($0.keys) } } } }

    /// Kills every sandbox and removes the fake's folder.
    func stop() {
        running.withLock { $0 = false }
        for sandbox in sandboxes.withLock({ Array($0.values) }) { sandbox.killAll() }
        server.withLock { $0?.stop() }
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: Requests

    private func handle(_ request: LoopbackHTTPServer.Request, _ response: LoopbackHTTPServer.Response) {
        let isUpload = request.method == "POST" && request.path == "/files"
        log.withLock {
            $0.append(LoggedRequest(
                method: request.method, target: request.target, headers: request.headers,
                body: isUpload ? Array("<\(request.body.count) bytes>".utf8) : request.body))
        }
        let path = request.path
        if path == "/sandboxes" || path.hasPrefix("/sandboxes/") {
            guard request.headers["x-api-key"] == Self.apiKey else {
                return json(response, 401, ["code": 401, "message": "Invalid API key"])
            }
            let parts = path.split(separator: "/").map(String.init)
            switch (request.method, parts.count) {
            case ("POST", 1): return create(request, response)
            case ("DELETE", 2):
                guard let sandbox = sandboxes.withLock({ $0.removeValue(forKey: parts[1]) }) else {
                    return json(response, 404, ["code": 404, "message": "sandbox not found"])
                }
                remove(sandbox)
                return response.send(status: 204)
            case ("POST", 3) where parts[2] == "timeout":
                guard let sandbox = sandboxes.withLock({ $0[parts[1]] }),
                      let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                      let seconds = body["timeout"] as? Int else { return json(response, 404, ["code": 404, "message": "sandbox not found"]) }
                sandbox.expiry.withLock { $0 = Date().timeIntervalSince1970 + Double(seconds) }
                return response.send(status: 204)
            default: return json(response, 404, ["code": 404, "message": "no route"])
            }
        }
        // envd
        guard let id = request.headers["e2b-sandbox-id"], let sandbox = sandboxes.withLock({ $0[id] }) else {
            return json(response, 502, ["code": 502, "message": "sandbox not found"])
        }
        guard request.headers["x-access-token"] == sandbox.token else {
            return json(response, 401, ["code": "unauthenticated", "message": "invalid access token"])
        }
        switch (request.method, path) {
        case ("POST", "/files"): upload(request, response, sandbox)
        case ("GET", "/files"):
            guard let data = FileManager.default.contents(atPath: sandbox.root + (request.query["path"] ?? "")) else {
                return json(response, 404, ["code": 404, "message": "file not found"])
            }
            response.send(status: 200, headers: ["Content-Type": "application/octet-stream"], body: Array(data))
        case ("POST", "/process.Process/Start"): start(request, response, sandbox)
        case ("POST", "/process.Process/SendInput"), ("POST", "/process.Process/CloseStdin"), ("POST", "/process.Process/SendSignal"):
            unary(path, request, response, sandbox)
        default: json(response, 404, ["code": "not_found", "message": "no route"])
        }
    }

    private func json(_ response: LoopbackHTTPServer.Response, _ status: Int, _ object: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        response.send(status: status, headers: ["Content-Type": "application/json"], body: Array(data))
    }

    private func create(_ request: LoopbackHTTPServer.Request, _ response: LoopbackHTTPServer.Response) {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
              let template = body["templateID"] as? String else { return json(response, 400, ["code": 400, "message": "templateID is required"]) }
        guard template == "base" || template == "osiris" else {
            return json(response, 404, ["code": 404, "message": "template '\(template)' not found"])
        }
        let number = counter.withLock { value -> Int in
            value += 1
            return value
        }
        let id = "fake\(number)sbx"
        let root = folder.appendingPathComponent(id).path
        try? FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        let sandbox = Sandbox(id: id, token: "envd-token-\(number)", root: root, lifetime: Double(body["timeout"] as? Int ?? 15))
        sandboxes.withLock { $0[id] = sandbox }
        json(response, 201, [
            "sandboxID": id, "templateID": template, "clientID": "fake", "envdVersion": "0.2.4", "envdAccessToken": sandbox.token,
        ])
    }

    private func remove(_ sandbox: Sandbox) {
        sandbox.killAll()
        try? FileManager.default.removeItem(atPath: sandbox.root)
    }

    private func expire() {
        while running.withLock({ $0 }) {
            usleep(200_000)
            let now = Date().timeIntervalSince1970
            let expired = sandboxes.withLock { sandboxes -> [Sandbox] in
                let gone = sandboxes.values.filter { $0.expiry.withLock { $0 } < now }
                for sandbox in gone { sandboxes.removeValue(forKey: sandbox.id) }
                return gone
            }
            for sandbox in expired { remove(sandbox) }
        }
    }

    /// The first part of a multipart/form-data body.
    private func upload(_ request: LoopbackHTTPServer.Request, _ response: LoopbackHTTPServer.Response, _ sandbox: Sandbox) {
        guard let target = request.query["path"], target.hasPrefix("/"),
              let type = request.headers["content-type"], let range = type.range(of: "boundary=") else {
            return json(response, 400, ["code": 400, "message": "an absolute path and a multipart body are required"])
        }
        let boundary = Array("--\(type[range.upperBound...])".utf8)
        let body = request.body
        guard let headerEnd = find([13, 10, 13, 10], in: body, from: 0),
              let closing = find([13, 10] + boundary, in: body, from: headerEnd + 4) else {
            return json(response, 400, ["code": 400, "message": "the multipart body does not parse"])
        }
        let file = sandbox.root + target
        try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file, contents: Data(body[(headerEnd + 4)..<closing])) else {
            return json(response, 500, ["code": 500, "message": "cannot write \(target)"])
        }
        json(response, 200, [["path": target, "name": (target as NSString).lastPathComponent, "type": "file"]])
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    // MARK: Processes

    private static func envelope(_ object: Any, flags: UInt8 = 0) -> [UInt8] {
        let data = Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
        let count = UInt32(data.count)
        return [flags, UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + data
    }

    private func start(_ request: LoopbackHTTPServer.Request, _ response: LoopbackHTTPServer.Response, _ sandbox: Sandbox) {
        guard request.headers["content-type"] == "application/connect+json", request.body.count >= 5,
              let message = try? JSONSerialization.jsonObject(with: Data(request.body[5...])) as? [String: Any],
              let config = message["process"] as? [String: Any], let command = config["cmd"] as? String else {
            return json(response, 400, ["code": "invalid_argument", "message": "a StartRequest envelope is required"])
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = config["args"] as? [String] ?? []
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.root + (config["cwd"] as? String ?? "/"))
        // The sandbox's own environment: nothing of the test process's but PATH.
        var environment = config["envs"] as? [String: String] ?? [:]
        environment["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        environment["TMPDIR"] = sandbox.root + "/tmp"
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return json(response, 400, ["code": "invalid_argument", "message": "cannot start \(command): \(error)"])
        }
        let pid = process.processIdentifier
        sandbox.processes.withLock { $0[pid] = (process, stdin.fileHandleForWriting) }
        response.start(status: 200, headers: ["Content-Type": "application/connect+json"])
        response.write(Self.envelope(["event": ["start": ["pid": Int(pid)]]]))
        let errors = Thread {
            while case let data = stderr.fileHandleForReading.availableData, !data.isEmpty {
                response.write(Self.envelope(["event": ["data": ["stderr": data.base64EncodedString()]]]))
            }
        }
        errors.start()
        while case let data = stdout.fileHandleForReading.availableData, !data.isEmpty {
            response.write(Self.envelope(["event": ["data": ["stdout": data.base64EncodedString()]]]))
        }
        process.waitUntilExit()
        sandbox.processes.withLock { _ = $0.removeValue(forKey: pid) }
        let code = process.terminationReason == .exit ? Int(process.terminationStatus) : -1
        response.write(Self.envelope(["event": ["end": ["exitCode": code, "exited": process.terminationReason == .exit, "status": "exit status \(code)"]]]))
        response.write(Self.envelope([String: Any](), flags: 2))
    }

    private func unary(_ path: String, _ request: LoopbackHTTPServer.Request, _ response: LoopbackHTTPServer.Response, _ sandbox: Sandbox) {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
              let pid = (body["process"] as? [String: Any])?["pid"] as? Int,
              let entry = sandbox.processes.withLock({ $0[Int32(pid)] }) else {
            return json(response, 404, ["code": "not_found", "message": "process not found"])
        }
        switch path {
        case "/process.Process/SendInput":
            guard let text = (body["input"] as? [String: Any])?["stdin"] as? String, let data = Data(base64Encoded: text) else {
                return json(response, 400, ["code": "invalid_argument", "message": "stdin is required"])
            }
            do { try entry.stdin.write(contentsOf: data) } catch { return json(response, 500, ["code": "internal", "message": "\(error)"]) }
        case "/process.Process/CloseStdin":
            try? entry.stdin.close()
        default:
            kill(Int32(pid), (body["signal"] as? String) == "SIGNAL_SIGTERM" ? SIGTERM : SIGKILL)
        }
        json(response, 200, [String: Any]())
    }
}
