import Core
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import NodeContract

/// `metalplane switch`: the agent on a Linux switch (the test fleet's fabric namespace, or a
/// Linux-based leaf), reached by the controller's `linux` fabric driver over HTTP on the switch's
/// management address, as a vendor's switch API is. Every route but `/healthz` wants the switch's
/// bearer token. `GET /v1/state` reads the switch back; `PUT /v1/config` programs it.
public enum SwitchAgent {
    /// Run once before serving: an unprogrammed switch starts closed to tenant traffic.
    public static func closeIfUnprogrammed(tenantNetwork: String, workers: BlockingWorkPool, logger: Logger) async throws {
        let device = LinuxSwitch(defaultTenantNetwork: tenantNetwork)
        if try await workers.run({ try device.closeIfUnprogrammed() }) {
            logger.notice("switch closed to tenant traffic until programmed", metadata: ["tenantNetwork": "\(tenantNetwork)"])
        }
    }

    public static func router(token: String, tenantNetwork: String, workers: BlockingWorkPool, logger: Logger) -> Router<BasicRequestContext> {
        let device = LinuxSwitch(defaultTenantNetwork: tenantNetwork)
        let router = Router()
        router.add(middleware: SwitchTokenCheck(token: token))
        router.get("/healthz") { _, _ in try NodeAPI.json(["status": "ok"]) }
        router.get("/v1/state") { _, _ in
            do {
                return try NodeAPI.json(try await workers.run { try device.observe() })
            } catch {
                return try NodeAPI.error(.internalServerError, "switch_read_failed", "\(error)")
            }
        }
        router.put("/v1/config") { request, _ in
            let body = try await request.body.collect(upTo: 64 << 20)
            guard let config = try? JSONDecoder().decode(SwitchConfig.self, from: Data(body.readableBytesView)) else {
                return try NodeAPI.error(.badRequest, "invalid_body", "a SwitchConfig JSON object is required")
            }
            do {
                let observed = try await workers.run { try device.apply(config) }
                logger.info("switch programmed", metadata: ["ports": .stringConvertible(config.ports.count), "vrfs": .stringConvertible(config.vrfs.count),
                                                           "foreign": .stringConvertible(observed.foreign.count)])
                return try NodeAPI.json(observed)
            } catch {
                logger.error("switch programming failed", metadata: ["error": .string("\(error)")])
                return try NodeAPI.error(.internalServerError, "switch_apply_failed", "\(error)")
            }
        }
        return router
    }
}

/// The switch API's gate: the controller's bearer token, compared in constant time.
struct SwitchTokenCheck<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let presented = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" } ?? ""
        var difference = UInt8(presented.utf8.count == token.utf8.count ? 0 : 1)
        for (a, b) in zip(presented.utf8, token.utf8) { difference |= a ^ b }
        guard difference == 0, !token.isEmpty else {
            return try NodeAPI.error(.unauthorized, "unauthenticated", "the switch's bearer token is required")
        }
        return try await next(request, context)
    }
}
