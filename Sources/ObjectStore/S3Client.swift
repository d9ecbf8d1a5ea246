import AsyncHTTPClient
import Core
import Cryptography
import Foundation
import NIOCore
import NIOHTTP1

/// A small S3 client for what backups need: put (one request, or a multipart upload for large
/// objects), get to a file, list by prefix, delete. Requests are signed with Signature V4 and
/// retried with backoff on connection errors and 5xx answers.
public struct S3Client: Sendable {
    public struct Settings: Sendable {
        /// `http(s)://host[:port]`, e.g. `https://s3.eu-west-1.amazonaws.com` or a MinIO/moto server.
        public var endpoint: String
        public var region: String
        public var bucket: String
        public var accessKey: String
        public var secretKey: String
        /// Path style (`endpoint/bucket/key`) or virtual-host style (`Host: bucket.endpoint`).
        public var pathStyle: Bool
        /// Objects larger than this go up in parts of `partBytes`.
        public var multipartThreshold: Int
        public var partBytes: Int
        public var attempts: Int

        public init(endpoint: String, region: String, bucket: String, accessKey: String, secretKey: String, pathStyle: Bool = true,
                    multipartThreshold: Int = 64 << 20, partBytes: Int = 16 << 20, attempts: Int = 4) {
            self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            self.region = region
            self.bucket = bucket
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.pathStyle = pathStyle
            self.multipartThreshold = multipartThreshold
            self.partBytes = max(partBytes, 5 << 20)
            self.attempts = max(attempts, 1)
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let status: Int
        public let body: String
        public var description: String { "S3 answered \(status): \(body.prefix(300))" }
    }

    public let settings: Settings
    let signer: SignatureV4
    let workers: BlockingWorkPool

    public init(settings: Settings, workers: BlockingWorkPool) {
        self.settings = settings
        self.signer = SignatureV4(accessKey: settings.accessKey, secretKey: settings.secretKey, region: settings.region)
        self.workers = workers
    }

    // MARK: Operations

    /// Uploads the file at `file` as `key`.
    public func put(_ key: String, from file: String) async throws {
        let size = try await workers.run { (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0 }
        guard size > settings.multipartThreshold else {
            let body = try await workers.run { try Data(contentsOf: URL(fileURLWithPath: file)) }
            _ = try await send(.PUT, key: key, body: Array(body))
            return
        }
        let created = try await send(.POST, key: key, query: [("uploads", "")])
        guard let uploadID = XMLText.first("UploadId", in: created.body) else { throw Failure(status: created.status, body: "no UploadId in \(created.body)") }
        do {
            var etags: [String] = []
            var offset = 0
            var number = 1
            while offset < size {
                let length = min(settings.partBytes, size - offset)
                let start = offset
                let part = try await workers.run { () throws -> [UInt8] in
                    guard let handle = FileHandle(forReadingAtPath: file) else { throw Failure(status: 0, body: "cannot read \(file)") }
                    defer { try? handle.close() }
                    try handle.seek(toOffset: UInt64(start))
                    return Array(try handle.read(upToCount: length) ?? Data())
                }
                let answer = try await send(.PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: part)
                guard let etag = answer.headers.first(name: "ETag") else { throw Failure(status: answer.status, body: "part \(number) has no ETag") }
                etags.append(etag)
                offset += length
                number += 1
            }
            let list = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(XMLText.escape($0.element))</ETag></Part>" }.joined()
            let completed = try await send(.POST, key: key, query: [("uploadId", uploadID)],
                                           body: Array("<CompleteMultipartUpload>\(list)</CompleteMultipartUpload>".utf8))
            // S3 can answer 200 with an error document when completion fails late.
            if completed.body.contains("<Error>") { throw Failure(status: completed.status, body: completed.body) }
        } catch {
            _ = try? await send(.DELETE, key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    /// Downloads `key` into `file`; `nil` status 404 becomes `notFound`.
    public func get(_ key: String, to file: String) async throws {
        let answer = try await send(.GET, key: key, accept: [200, 404], collect: false)
        guard answer.status == 200, let stream = answer.stream else { throw S3NotFound(key: key) }
        let handle = try await workers.run { () throws -> FileHandle in
            guard FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: file) else { throw Failure(status: 0, body: "cannot write \(file)") }
            return handle
        }
        let box = FileBox(handle: handle)
        defer { try? handle.close() }
        var pending = ByteBuffer()
        for try await chunk in stream {
            var chunk = chunk
            pending.writeBuffer(&chunk)
            if pending.readableBytes >= 1 << 20 {
                let bytes = Data(pending.readableBytesView)
                pending.clear()
                try await workers.run { try box.handle.write(contentsOf: bytes) }
            }
        }
        let rest = Data(pending.readableBytesView)
        try await workers.run { try box.handle.write(contentsOf: rest); try box.handle.synchronize() }
    }

    /// Keys under `prefix`, all pages.
    public func list(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let answer = try await send(.GET, key: nil, query: query)
            keys += XMLText.all("Key", in: answer.body)
            token = XMLText.first("IsTruncated", in: answer.body) == "true" ? XMLText.first("NextContinuationToken", in: answer.body) : nil
        } while token != nil
        return keys
    }

    public func delete(_ key: String) async throws {
        _ = try await send(.DELETE, key: key, accept: [200, 204, 404])
    }

    /// Creates the bucket (for tests and first setup); an existing one is fine.
    public func createBucket() async throws {
        _ = try await send(.PUT, key: nil, accept: [200, 409])
    }

    // MARK: Requests

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var stream: HTTPClientResponse.Body?
    }

    private func send(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], body: [UInt8] = [],
                      accept: Set<Int> = [200, 204], collect: Bool = true) async throws -> Answer {
        guard let endpoint = URL(string: settings.endpoint), let host = endpoint.host else { throw Failure(status: 0, body: "bad endpoint \(settings.endpoint)") }
        let authority = endpoint.port.map { "\(host):\($0)" } ?? host
        let objectPath = key.map { "/" + $0 } ?? "/"
        let path = settings.pathStyle ? "/" + settings.bucket + (key.map { "/" + $0 } ?? "") : objectPath
        let hostHeader = settings.pathStyle ? authority : settings.bucket + "." + authority
        let payloadHash = Digest.hex(Digest.sha256(body))
        var lastError: any Error = Failure(status: 0, body: "no attempt")
        for attempt in 0..<settings.attempts {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(200 * (1 << attempt))) }
            var request = HTTPClientRequest(url: settings.endpoint + SignatureV4.encodePath(path)
                                            + (query.isEmpty ? "" : "?" + SignatureV4.canonicalQuery(query)))
            request.method = method
            request.headers.add(name: "Host", value: hostHeader)
            for (name, value) in signer.sign(method: method.rawValue, path: path, query: query, headers: [("host", hostHeader)],
                                             payloadHash: payloadHash, at: Date()) {
                request.headers.add(name: name, value: value)
            }
            if !body.isEmpty || method == .PUT || method == .POST {
                request.headers.add(name: "Content-Length", value: String(body.count))
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .minutes(10))
                let status = Int(response.status.code)
                if status >= 500 {
                    lastError = Failure(status: status, body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
                    continue
                }
                guard accept.contains(status) else {
                    throw Failure(status: status, body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
                }
                if !collect && status == 200 { return Answer(status: status, headers: response.headers, body: "", stream: response.body) }
                return Answer(status: status, headers: response.headers, body: String(buffer: try await response.body.collect(upTo: 16 << 20)))
            } catch let failure as Failure {
                throw failure
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}

/// The object named does not exist.
public struct S3NotFound: Error {
    public let key: String
}

/// An open file handed to worker threads.
private struct FileBox: @unchecked Sendable {
    let handle: FileHandle
}

/// The few pieces of S3's XML answers a client needs.
enum XMLText {
    static func all(_ element: String, in text: String) -> [String] {
        var values: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(element)>"), let close = rest.range(of: "</\(element)>", range: open.upperBound..<rest.endIndex) {
            values.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return values
    }

    static func first(_ element: String, in text: String) -> String? { all(element, in: text).first }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
