import Foundation
import LoopbackHTTP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A model endpoint inside the test suite: a `LoopbackHTTPServer` that answers each POST with the
/// next scripted reply, in the OpenAI chat-completions or Anthropic messages wire format, and records
/// every request; the replies are given in the order the requests arrive.
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

    private let server: LoopbackHTTPServer
    private let script: Script

    /// The replies still to give and the requests received, shared with the server's threads.
    private final class Script: Sendable {
        let state: Mutex<(replies: [Reply], requests: [Request])>
        init(_ replies: [Reply]) { state = Mutex((replies, [])) }
    }

    /// Starts a server that will give `replies` in order (HTTP 500 once they run out).
    init(_ replies: [Reply]) throws {
        let script = Script(replies)
        self.script = script
        server = try LoopbackHTTPServer { request, response in
            let reply = script.state.withLock { state -> Reply in
                state.requests.append(Request(
                    path: request.target, headers: request.headers, body: String(decoding: request.body, as: UTF8.self)))
                return state.replies.isEmpty ? .status(500) : state.replies.removeFirst()
            }
            if reply.delay > 0 { usleep(UInt32(reply.delay * 1_000_000)) }
            var headers = reply.headers
            if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
            response.send(status: reply.status, headers: headers, body: Array(reply.body.utf8))
        }
    }

    /// The port the server listens on.
    var port: Int { server.port }

    /// `http://127.0.0.1:PORT/v1`, the base URL to give the clients.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// The requests received so far.
    var requests: [Request] { script.state.withLock { $0.requests } }

    /// Stops accepting connections and waits until the listening socket is closed.
    func stop() { server.stop() }
}
