import NIOCore
import IAM
import HTTPTypes
import Core
/// Every route of the controller, in one list: what the router registers and the OpenAPI document describes.
enum ControllerRoutes {
    /// The routes; `openAPIDocument` is what `/openapi.json` serves (built from a first pass over these same specs).
    static func all(_ services: ControllerServices, openAPIDocument: [UInt8] = []) -> [RouteSpec] {
        HealthRoutes.routes(services, openAPIDocument: openAPIDocument) + OIDCRoutes.routes(services) + RealmRoutes.routes(services)
            + UserRoutes.routes(services) + GroupRoutes.routes(services) + DirectoryRoutes.routes(services) + APIKeyRoutes.routes(services) + AuditRoutes.routes(services)
            + TenantRoutes.routes(services) + HierarchyRoutes.routes(services) + InvitationRoutes.routes(services) + PoolRoutes.routes(services)
            + NodeRoutes.routes(services) + ProjectNodeRoutes.routes(services)
            + AgentRoutes.routes(services) + StoreRoutes.routes(services) + InstanceRoutes.routes(services)
            + InferenceRoutes.routes(services) + PlacementRoutes.routes(services) + TracingRoutes.routes(services)
            + BackupRoutes.routes(services) + FabricRoutes.routes(services) + LeaseRoutes.routes(services) + TelemetryRoutes.routes(services) + AlertRuleRoutes.routes(services)
            + IncidentRoutes.routes(services) + NotificationRoutes.routes(services) + SummaryRoutes.routes(services) + ReportRoutes.routes(services) + SessionRoutes.routes(services) + LockoutRoutes.routes(services) + PasswordRoutes.routes(services)
    }
}
