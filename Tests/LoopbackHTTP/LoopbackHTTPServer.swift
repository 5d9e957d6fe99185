import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on 127.0.0.1 (a free port) for the test suites' fakes of remote services (the
/// model endpoints of OsirisChatTests, E2B in CLITests): one request per connection, each served on
/// its own thread by `handler`, which answers whole (`Response.send`) or streams a body that ends
/// when the connection closes (`Response.start` then `Response.write`).
public final class LoopbackHTTPServer: Sendable {
    /// One request as received.
    public struct Request: Sendable {
        /// GET, POST, DELETE...
        public var method: String
        /// The request target: the path and the query.
        public var target: String
        /// Header names lowercased.
        public var headers: [String: String]
        /// The body bytes.
        public var body: [UInt8]

        /// The target without its query.
        public var path: String { String(target.prefix { $0 != "?" }) }

        /// The query's parameters, percent-decoded.
        public var query: [String: String] {
            guard let mark = target.firstIndex(of: "?") else { return [:] }
            var result: [String: String] = [:]
            for pair in target[target.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                result[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            return result
        }
    }

    /// The answer to one request, written to its connection.
    public final class Response: Sendable {
        private let connection: Int32
        private let lock = Mutex(false)

        init(connection: Int32) { self.connection = connection }

        /// Sends a whole response with `Content-Length`.
        public func send(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
            var head = "HTTP/1.1 \(status) Fake\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            _ = write(Array((head + "\r\n").utf8) + body)
        }

        /// Starts a streamed response whose body ends when the connection closes.
        public func start(status: Int, headers: [String: String] = [:]) {
            var head = "HTTP/1.1 \(status) Fake\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            _ = write(Array((head + "\r\n").utf8))
        }

        /// Writes raw bytes (whole, from any thread); false once the client has gone.
        @discardableResult
        public func write(_ bytes: [UInt8]) -> Bool {
            lock.withLock { _ in
                var sent = 0
                while sent < bytes.count {
                    let count = bytes[sent...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if count <= 0 { return false }
                    sent += count
                }
                return true
            }
        }
    }

    /// The port the server listens on.
    public let port: Int
    private let listener: Int32
    private let state = Mutex((stopped: false, finished: false))
    private let handler: @Sendable (Request, Response) -> Void

    /// Starts a server that answers each request with `handler`.
    public init(handler: @escaping @Sendable (Request, Response) -> Void) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else { close(descriptor); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = descriptor
        self.handler = handler
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting connections and waits until the listening socket is closed. The serving thread
    /// closes it, so that its descriptor cannot be reused by another test's server while it still accepts.
    public func stop() {
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
            // A thread per connection, so that a late or streamed reply does not hold up the next request.
            Thread { [self] in
                if let request = Self.read(connection) { handler(request, Response(connection: connection)) }
                close(connection)
            }.start()
        }
    }

    private static func read(_ connection: Int32) -> Request? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var headerEnd: Int? = nil
        var contentLength = 0
        while true {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
            if headerEnd == nil, let end = find([13, 10, 13, 10], in: received) {
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
        guard let headerEnd else { return nil }
        let lines = String(decoding: received[0..<(headerEnd - 4)], as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines.first.map { $0.split(separator: " ").map(String.init) } ?? []
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return Request(
            method: requestLine.first ?? "", target: requestLine.count > 1 ? requestLine[1] : "", headers: headers,
            body: Array(received[headerEnd...]))
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
