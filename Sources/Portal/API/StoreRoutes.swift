import Core
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import NodeContract
import Scheduler

/// The model store over HTTP: operators list it; agents read manifests and files, with ranged reads
/// so an interrupted staging copy resumes where it stopped.
enum StoreRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let store = services.modelStore
        let fileIO = FileIO(threadPool: store.workers.threadPool)
        return [
            RouteSpec(.get, "/api/v1/store/models", "store.models", summary: "Models in the store (org/name).", tag: "store",
                      access: .authenticated(.platformManage, .platform), response: "ModelIDList") { _ in
                try JSONBody.response(["items": try await store.models()])
            },
            RouteSpec(.get, "/api/v1/store/models/{model}/manifest", "store.manifest",
                      summary: "A model's manifest: every file with size and SHA-256 ({model} is org--name).", tag: "store",
                      access: .agent, response: "ModelManifest") { call in
                try JSONBody.response(try await store.manifest(try modelID(call)))
            },
            RouteSpec(.get, "/api/v1/store/models/{model}/file", "store.file",
                      summary: "One file of a model (query path=…), with Range support (206) for resumed copies.", tag: "store",
                      access: .agent, query: ["path"], response: "Binary") { call in
                guard let path = call.request.queryString("path") else { throw PortalError.invalidQuery(parameter: "path", reason: "is required") }
                let file = try await store.filePath(try modelID(call), path)
                var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes"]
                guard let range = try byteRange(call.request.headers[.range], size: file.bytes) else {
                    headers[.contentLength] = String(file.bytes)
                    return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: file.path, context: call.context))
                }
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.bytes)"
                headers[.contentLength] = String(range.count)
                return Response(status: .partialContent, headers: headers,
                                body: try await fileIO.loadFile(path: file.path, range: range, context: call.context))
            },
        ]
    }

    private static func modelID(_ call: RouteSpec.Call) throws -> String {
        let directory = try call.context.parameters.require("model")
        guard let range = directory.range(of: "--") else { throw StoreFileError.invalidModelID(directory) }
        return directory.replacingCharacters(in: range, with: "/")
    }

    /// `bytes=START-` or `bytes=START-END` within the file; nil for no Range header.
    static func byteRange(_ header: String?, size: Int64) throws -> ClosedRange<Int>? {
        guard let header else { return nil }
        let spec = header.hasPrefix("bytes=") ? header.dropFirst(6) : ""
        let parts = spec.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), start >= 0, start < size else {
            throw PortalError.invalidHeader(name: "Range", reason: "must be bytes=START- or bytes=START-END within the file's \(size) bytes")
        }
        let end = parts[1].isEmpty ? Int(size) - 1 : min(Int(parts[1]) ?? -1, Int(size) - 1)
        guard end >= start else { throw PortalError.invalidHeader(name: "Range", reason: "the end comes before the start") }
        return start...end
    }
}
