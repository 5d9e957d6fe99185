import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A model endpoint inside the test suite: an HTTP/1.1 server on 127.0.0.1 (a free port) that answers
/// each POST with the next scripted reply, in the OpenAI chat-completions or Anthropic messages wire
/// format, and records every request. One connection per request (`Connection: close`), each served
/// on its own thread; the replies are given in the order the requests arrive.
final class ModelServer: Sendable {
    /// One scripted answer.
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
        /// Seconds the server waits before answering, to test the reply timeout.
        var delay: Double = 0

        /// `reply`, answered only after `seconds`.
        static func late(_ seconds: Double, _ reply: Reply) -> Reply {
            var late = reply
            late.delay = seconds
            return late
        }

        /// A chat-completions reply whose message is `text`.
        static func openAI(_ text: String) -> Reply {
            Reply(status: 200, headers: [:], body: json(["choices": [["index": 0, "message": ["role": "assistant", "content": text]]]]))
        }

        /// A messages reply whose text block is `text`.
        static func anthropic(_ text: String) -> Reply {
            Reply(status: 200, headers: [:], body: json(["type": "message", "content": [["type": "text", "text": text]]]))
        }

        /// A chat-completions event stream whose deltas are `pieces`.
        static func openAIStream(_ pieces: [String]) -> Reply {
            let events = pieces.map { "data: " + json(["choices": [["index": 0, "delta": ["content": $0]]]]) + "\n\n" }
            return Reply(status: 200, headers: ["Content-Type": "text/event-stream"], body: events.joined() + "data: [DONE]\n\n")
        }

        /// A messages event stream whose text deltas are `pieces`.
        static func anthropicStream(_ pieces: [String]) -> Reply {
            var body = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
            for piece in pieces {
                body += "event: content_block_delta\ndata: "
                    + json(["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": piece]]) + "\n\n"
            }
            return Reply(status: 200, headers: ["Content-Type": "text/event-stream"], body: body + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
        }

        /// An error status with an OpenAI-style error body.
        static func status(_ status: Int, retryAfter: String? = nil) -> Reply {
            Reply(status: status, headers: retryAfter.map { ["Retry-After": $0] } ?? [:],
                  body: json(["error": ["message": "scripted \(status)"]]))
        }

        private static func json(_ object: Any) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    /// One recorded request.
    struct Request: Sendable {
        var path: String
        var headers: [String: String]
        var body: String

        /// The body decoded as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    let port: Int
    private let listener: Int32
    private let state: Mutex<(replies: [Reply], requests: [Request], stopped: Bool, finished: Bool)>

    /// Starts a server that will give `replies` in order (HTTP 500 once they run out).
    init(_ replies: [Reply]) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { close(descriptor); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = descriptor
        state = Mutex((replies, [], false, false))
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL to give the clients.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// The requests received so far.
    var requests: [Request] { state.withLock { $0.requests } }

    /// Stops accepting connections and waits until the listening socket is closed. The serving thread
    /// closes it, so that its descriptor cannot be reused by another test's server while it still accepts.
    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        while !state.withLock({ $0.finished }) { usleep(1000) }
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if state.withLock({ $0.stopped }) {
                    close(listener)
                    state.withLock { $0.finished = true }
                    return
                }
                continue
            }
            // A thread per connection, so that a late reply does not hold up the next request.
            Thread { [self] in
                self.handle(connection)
                close(connection)
            }.start()
        }
    }

    private func handle(_ connection: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int? = nil
        var contentLength = 0
        while true {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
            if headerEnd == nil, let end = Self.find([13, 10, 13, 10], in: received) {
                headerEnd = end + 4
                let head = String(decoding: received[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
            if let headerEnd, received.count >= headerEnd + contentLength { break }
        }
        guard let headerEnd else { return }
        let head = String(decoding: received[0..<(headerEnd - 4)], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let path = lines.first.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" } ?? ""
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let body = String(decoding: received[headerEnd...], as: UTF8.self)
        let reply = state.withLock { state -> Reply in
            state.requests.append(Request(path: path, headers: headers, body: body))
            return state.replies.isEmpty ? .status(500) : state.replies.removeFirst()
        }
        if reply.delay > 0 { usleep(UInt32(reply.delay * 1_000_000)) }
        var response = "HTTP/1.1 \(reply.status) Scripted\r\nConnection: close\r\n"
        if reply.headers["Content-Type"] == nil { response += "Content-Type: application/json\r\n" }
        response += "Content-Length: \(reply.body.utf8.count)\r\n"
        for (name, value) in reply.headers { response += "\(name): \(value)\r\n" }
        response += "\r\n" + reply.body
        let bytes = Array(response.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
