import CCurl
import OsirisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP response: status, the headers that matter to retries, and the body.
package struct HTTPResponse: Sendable, Equatable {
    /// The status code.
    package var status: Int
    /// Header names lowercased, values trimmed.
    package var headers: [String: String]
    /// The body bytes.
    package var body: [UInt8]

    /// Seconds asked by a `Retry-After` header in its delta-seconds form.
    package var retryAfterSeconds: Double? {
        headers["retry-after"].flatMap { Double($0) }
    }
}

/// Why a request produced no response at all.
package enum TransportFailure: Error, Sendable, Equatable {
    /// Nothing answered: refused connection, unknown host.
    case unreachable(String)
    /// The connect or total timeout passed; worth another attempt.
    case timedOut(String)
}

/// Sends a POST and returns the response; a protocol so tests and other transports can stand in.
package protocol HTTPTransport: Sendable {
    /// Posts `body` to `url` with `headers` (`Name: value`); `onData`, when given, sees each piece of a
    /// successful (2xx) response's body as it arrives.
    func post(url: String, headers: [String], body: [UInt8], onData: (([UInt8]) -> Void)?) throws(TransportFailure) -> HTTPResponse
}

/// Timeouts of one request, in milliseconds.
package struct HTTPTimeouts: Sendable, Equatable {
    /// Time allowed to connect.
    package var connectMilliseconds: Int
    /// Time allowed for the whole request, reply included: the wall-clock cap on a reply (0: none).
    package var totalMilliseconds: Int
    /// With no total cap, how long a response may send nothing before it is given up (0: for ever).
    package var idleSeconds: Int

    package init(connectMilliseconds: Int, totalMilliseconds: Int, idleSeconds: Int = 0) {
        self.connectMilliseconds = connectMilliseconds
        self.totalMilliseconds = totalMilliseconds
        self.idleSeconds = idleSeconds
    }
}

/// One request for `CurlTransport.send`.
package struct HTTPRequest: Sendable {
    /// GET, POST, DELETE...
    package var method: String
    /// The whole URL, query included.
    package var url: String
    /// `Name: value` lines, `Content-Type` among them when there is a body.
    package var headers: [String]
    /// The body, sent as it is (binary allowed).
    package var body: [UInt8]

    package init(method: String, url: String, headers: [String] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What libcurl's callbacks append to while a request runs.
private final class ResponseBuffer {
    var body: [UInt8] = []
    var headerLines: [String] = []
    /// Whether the last status line seen was a 2xx.
    var succeeded = false
    var onData: (([UInt8]) -> Void)?
    /// Whether a streamed (2xx, `onData`) body is also kept whole in `body`.
    var keepsStreamedBody = true
    var shouldAbort: (() -> Bool)?
}

/// HTTP over libcurl, one easy handle per request.
package struct CurlTransport: HTTPTransport {
    /// libcurl's global initialisation, done once before the first handle.
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    private let timeouts: HTTPTimeouts

    package init(timeouts: HTTPTimeouts) { self.timeouts = timeouts }

    package func post(url: String, headers: [String], body: [UInt8], onData: (([UInt8]) -> Void)?) throws(TransportFailure)
        -> HTTPResponse
    {
        try send(HTTPRequest(method: "POST", url: url, headers: headers + ["Content-Type: application/json"], body: body), onData: onData)
    }

    /// Sends `request`. `onData`, when given, sees each piece of a 2xx body as it arrives (the body is
    /// then kept whole in the response only when `keepsStreamedBody`); `shouldAbort`, polled about
    /// once a second and on each piece, ends the request early (reported as unreachable).
    package func send(
        _ request: HTTPRequest, onData: (([UInt8]) -> Void)?, keepsStreamedBody: Bool = true, shouldAbort: (() -> Bool)? = nil
    ) throws(TransportFailure) -> HTTPResponse {
        guard Self.initialized, let handle = curl_easy_init() else { throw .unreachable("libcurl failed to initialise") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in request.headers + ["Expect:"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }

        let buffer = ResponseBuffer()
        buffer.onData = onData
        buffer.keepsStreamedBody = keepsStreamedBody
        buffer.shouldAbort = shouldAbort
        let unmanaged = Unmanaged.passUnretained(buffer).toOpaque()
        _ = osiris_curl_setopt_string(handle, CURLOPT_URL, request.url)
        _ = osiris_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = osiris_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeouts.connectMilliseconds)
        _ = osiris_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeouts.totalMilliseconds)
        if timeouts.idleSeconds > 0 {
            _ = osiris_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = osiris_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, timeouts.idleSeconds)
        }
        _ = osiris_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        switch request.method {
        case "GET": _ = osiris_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "POST": _ = osiris_curl_setopt_long(handle, CURLOPT_POST, 1)
        default: _ = osiris_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if request.method != "GET" {
            _ = osiris_curl_setopt_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        }
        _ = osiris_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { pointer, size, count, context in
            let length = size * count
            guard let pointer, let context else { return length }
            let target = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            if target.shouldAbort?() == true { return 0 }
            let piece = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                Array(UnsafeBufferPointer(start: bytes, count: length))
            }
            if target.succeeded, let onData = target.onData {
                if target.keepsStreamedBody { target.body.append(contentsOf: piece) }
                onData(piece)
            } else {
                target.body.append(contentsOf: piece)
            }
            return length
        }
        _ = osiris_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged)
        _ = osiris_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { pointer, size, count, context in
            let length = size * count
            guard let pointer, let context else { return length }
            let target = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            let line = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
            }
            target.headerLines.append(line)
            if line.hasPrefix("HTTP/") {
                let parts = line.split(separator: " ")
                target.succeeded = parts.count > 1 && parts[1].hasPrefix("2")
            }
            return length
        }
        _ = osiris_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged)
        if shouldAbort != nil {
            _ = osiris_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            _ = osiris_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, unmanaged)
            _ = osiris_curl_setopt_progress_function(handle) { context, _, _, _, _ in
                guard let context else { return 0 }
                let target = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
                return target.shouldAbort?() == true ? 1 : 0
            }
        }

        // The body stays where it is while curl reads it (no copy of a large upload).
        let code = request.body.withUnsafeBytes { bytes in
            if request.method != "GET" {
                _ = osiris_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
            return curl_easy_perform(handle)
        }
        switch code {
        case CURLE_OK: break
        case CURLE_OPERATION_TIMEDOUT: throw .timedOut(String(cString: curl_easy_strerror(code)))
        default: throw .unreachable(String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = osiris_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var parsed: [String: String] = [:]
        for line in buffer.headerLines {
            // A new status line (after a redirect or 100 Continue) starts a new header block.
            if line.hasPrefix("HTTP/") { parsed = [:]; continue }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            parsed[name] = value
        }
        return HTTPResponse(status: status, headers: parsed, body: buffer.body)
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and line breaks.
    package var trimmingSpaces: String {
        String(self).trimmingSpaces
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and line breaks.
    package var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
