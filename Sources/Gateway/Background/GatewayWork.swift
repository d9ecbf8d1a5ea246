import Core
import ServiceLifecycle

/// Runs the gateway's owned work (`InferenceRouter.work`) as a service. Listed before the HTTP
/// server, it stops after the server has drained: the lookups of requests still being answered end
/// first.
struct GatewayWork: Service {
    let work: OwnedWork

    func run() async throws {
        await withGracefulShutdownHandler {
            await work.run()
        } onGracefulShutdown: {
            work.finish()
        }
    }
}
