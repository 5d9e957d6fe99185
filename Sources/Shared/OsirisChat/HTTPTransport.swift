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
    /// Time allowed for the whole request, reply included: the wall-clock cap on a reply.
    package var totalMilliseconds: Int

    package init(connectMilliseconds: Int, totalMilliseconds: Int) {
        self.connectMilliseconds = connectMilliseconds
        self.totalMilliseconds = totalMilliseconds
    }
}

/// What libcurl's callbacks append to while a request runs.
private final class ResponseBuffer {
    var body: [UInt8] = []
    var headerLines: [String] = []
    /// Whether the last status line seen was a 2xx.
    var succeeded = false
    var onData: (([UInt8]) -> Void)?
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
        guard Self.initialized, let handle = curl_easy_init() else { throw .unreachable("libcurl failed to initialise") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in headers + ["Content-Type: application/json", "Expect:"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }

        let buffer = ResponseBuffer()
        buffer.onData = onData
        let unmanaged = Unmanaged.passUnretained(buffer).toOpaque()
        _ = osiris_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = osiris_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = osiris_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeouts.connectMilliseconds)
        _ = osiris_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeouts.totalMilliseconds)
        _ = osiris_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        _ = osiris_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
        let text = String(decoding: body, as: UTF8.self)
        _ = osiris_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, text)
        _ = osiris_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { pointer, size, count, context in
            let length = size * count
            guard let pointer, let context else { return length }
            let target = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            let piece = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                Array(UnsafeBufferPointer(start: bytes, count: length))
            }
            target.body.append(contentsOf: piece)
            if target.succeeded { target.onData?(piece) }
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

        let code = curl_easy_perform(handle)
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
    var trimmingSpaces: String {
        String(self).trimmingSpaces
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
