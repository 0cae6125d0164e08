using System.Reflection;
using LinqToDB.Data;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Audit.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Contracts.Events.V1;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Imports.V1;
using Invisible.Contracts.Intake.V1;
using Invisible.Contracts.Keying.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Contracts.Notifications.V1;
using Invisible.Contracts.QuickBooks.V1;
using Invisible.Contracts.Vendors.V1;
using Invisible.Identity;
using Grpc.Core;
using Invisible.Server.Accounts;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// Access to every RPC the product defines, enumerated from the proto descriptors: each must declare its policy on its
/// handler and have a tenant-isolation case below, so a new RPC without them fails this suite.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class AccessMatrixTests(AccountsServer server)
{
    private static readonly TimeSpan ShortDeadline = TimeSpan.FromSeconds(2);

    /// <summary>
    /// With tenant A's credentials and tenant B's identifiers: each case returns what went wrong, or null. B's rows are
    /// compared before and after all of them.
    /// </summary>
    private static readonly Dictionary<string, Func<IsolationWorld, Task<string?>>> IsolationCases = new(StringComparer.Ordinal)
    {
        ["invisible.auth.v1.AuthService.SignIn"] = async world => Expect(
            await world.Call(Rpcs.Auth("SignIn"), new SignInRequest { Email = world.B.Admin.Email, Password = world.B.Admin.Password, TenantSlug = world.A.Slug }, token: null),
            StatusCode.Unauthenticated),
        ["invisible.auth.v1.AuthService.VerifyMfa"] = async world => Expect(
            await world.Call(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = world.B.NextCode(world.B.Admin.MfaSecret!) },
                (await world.A.SignInAsync(world.A.Admin)).As<SignInResponse>().Session.AccessToken),
            StatusCode.PermissionDenied),
        ["invisible.auth.v1.AuthService.BeginMfaEnrolment"] = async world => ExpectOk(
            await world.Call(Rpcs.Auth("BeginMfaEnrolment"), new BeginMfaEnrolmentRequest(), await world.SessionOfA())),
        ["invisible.auth.v1.AuthService.ConfirmMfaEnrolment"] = async world =>
        {
            var token = await world.SessionOfA();
            await world.Call(Rpcs.Auth("BeginMfaEnrolment"), new BeginMfaEnrolmentRequest(), token);
            return Expect(
                await world.Call(Rpcs.Auth("ConfirmMfaEnrolment"), new ConfirmMfaEnrolmentRequest { TotpCode = world.B.NextCode(world.B.Admin.MfaSecret!) }, token),
                StatusCode.PermissionDenied);
        },
        ["invisible.auth.v1.AuthService.Refresh"] = async world => Expect(
            await world.Call(Rpcs.Auth("Refresh"), new RefreshRequest { RefreshToken = world.BSession.ToString() }, await world.SessionOfA()),
            StatusCode.Unauthenticated),
        ["invisible.auth.v1.AuthService.SignOut"] = async world =>
            ExpectOk(await world.Call(Rpcs.Auth("SignOut"), new SignOutRequest(), await world.SessionOfAToEnd())) ?? await world.BStillSignedIn(),
        ["invisible.auth.v1.AuthService.SignOutEverywhere"] = async world =>
            ExpectOk(await world.Call(Rpcs.Auth("SignOutEverywhere"), new SignOutEverywhereRequest(), await world.SessionOfAToEnd())) ?? await world.BStillSignedIn(),
        ["invisible.auth.v1.AuthService.ChangePassword"] = async world => Expect(
            await world.Call(Rpcs.Auth("ChangePassword"), new ChangePasswordRequest { CurrentPassword = world.B.Admin.Password, NewPassword = "hijacked passphrase of b" }, await world.SessionOfA()),
            StatusCode.PermissionDenied),
        ["invisible.auth.v1.AuthService.GetSession"] = async world =>
        {
            var reply = await world.Call(Rpcs.Auth("GetSession"), new GetSessionRequest(), await world.SessionOfA());
            return ExpectOk(reply) ?? (reply.As<SessionInfo>().TenantSlug == world.A.Slug ? null : "GetSession answered about another tenant");
        },
        ["invisible.auth.v1.AuthService.AcceptInvitation"] = async world => Expect(
            await world.Call(Rpcs.Auth("AcceptInvitation"), new AcceptInvitationRequest { InvitationToken = world.BInvitationId, Password = "a passphrase long enough" }, await world.SessionOfA()),
            StatusCode.NotFound),
        // Anonymous like SignIn: naming A's organisation, B's administrator gets no link in B (B's rows are compared after).
        ["invisible.auth.v1.AuthService.RequestPasswordReset"] = async world => ExpectOk(
            await world.Call(Rpcs.Auth("RequestPasswordReset"), new RequestPasswordResetRequest { Email = world.B.Admin.Email, TenantSlug = world.A.Slug }, token: null)),
        ["invisible.auth.v1.AuthService.ResetPassword"] = async world => Expect(
            await world.Call(Rpcs.Auth("ResetPassword"), new ResetPasswordRequest { Token = world.BInvitationId, NewPassword = "hijacked passphrase of b" }, await world.SessionOfA()),
            StatusCode.NotFound),

        ["invisible.admin.v1.AdminService.ListUsers"] = async world => ExpectNoneOf(
            await world.Call(Rpcs.Admin("ListUsers"), new ListUsersRequest(), await world.SessionOfA()), world.B.Admin.Email, world.BClerkId),
        ["invisible.admin.v1.AdminService.SetUserRole"] = async world => Expect(
            await world.Call(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = world.BClerkId, Role = Roles.Admin }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.admin.v1.AdminService.DisableUser"] = async world => Expect(
            await world.Call(Rpcs.Admin("DisableUser"), new DisableUserRequest { UserId = world.BClerkId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.admin.v1.AdminService.InviteUser"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("InviteUser"), new InviteUserRequest { Email = world.B.Admin.Email, Role = Roles.Clerk }, await world.SessionOfA())),
        ["invisible.admin.v1.AdminService.ListInvitations"] = async world => ExpectNoneOf(
            await world.Call(Rpcs.Admin("ListInvitations"), new ListInvitationsRequest(), await world.SessionOfA()), world.BInvitationId),
        ["invisible.admin.v1.AdminService.RevokeInvitation"] = async world => Expect(
            await world.Call(Rpcs.Admin("RevokeInvitation"), new RevokeInvitationRequest { InvitationId = world.BInvitationId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.admin.v1.AdminService.CreateApiKey"] = async world =>
        {
            var reply = await world.Call(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "a's key", Role = Roles.Admin }, await world.SessionOfA());
            return ExpectOk(reply) ?? ExpectNoneOf(
                await world.A.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), apiKey: reply.As<CreateApiKeyResponse>().Key), world.B.Admin.Email);
        },
        ["invisible.admin.v1.AdminService.ListApiKeys"] = async world => ExpectNoneOf(
            await world.Call(Rpcs.Admin("ListApiKeys"), new ListApiKeysRequest(), await world.SessionOfA()), world.BApiKeyId),
        ["invisible.admin.v1.AdminService.RevokeApiKey"] = async world => Expect(
            await world.Call(Rpcs.Admin("RevokeApiKey"), new RevokeApiKeyRequest { ApiKeyId = world.BApiKeyId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.admin.v1.AdminService.GetMfaPolicy"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("GetMfaPolicy"), new GetMfaPolicyRequest(), await world.SessionOfA())),
        ["invisible.admin.v1.AdminService.SetMfaPolicy"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("SetMfaPolicy"), new SetMfaPolicyRequest { Required = false }, await world.SessionOfA())),
        ["invisible.admin.v1.AdminService.GetApprovalPolicy"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("GetApprovalPolicy"), new GetApprovalPolicyRequest(), await world.SessionOfA())),
        ["invisible.admin.v1.AdminService.SetApprovalPolicy"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("SetApprovalPolicy"), new SetApprovalPolicyRequest { FourEyes = true }, await world.SessionOfA())),
        ["invisible.admin.v1.AdminService.GetIpAllowlist"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("GetIpAllowlist"), new GetIpAllowlistRequest(), await world.SessionOfA())),
        ["invisible.admin.v1.AdminService.SetIpAllowlist"] = async world => ExpectOk(
            await world.Call(Rpcs.Admin("SetIpAllowlist"), new SetIpAllowlistRequest(), await world.SessionOfA())),

        ["invisible.imports.v1.ImportService.StartUpload"] = async world => ExpectOk(
            await world.Call(Rpcs.Imports("StartUpload"), new StartUploadRequest { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = 10 }, await world.SessionOfA())),
        ["invisible.imports.v1.ImportService.UploadChunk"] = async world => Expect(
            await world.Call(Rpcs.Imports("UploadChunk"), new UploadChunkRequest { UploadId = world.BUploadId, Offset = 0, Data = ByteString.CopyFromUtf8("vendor_code\n") }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.imports.v1.ImportService.CompleteUpload"] = async world => Expect(
            await world.Call(Rpcs.Imports("CompleteUpload"), new CompleteUploadRequest { UploadId = world.BUploadId, Sha256 = new string('0', 64) }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.imports.v1.ImportService.GetImport"] = async world => Expect(
            await world.Call(Rpcs.Imports("GetImport"), new GetImportRequest { ImportId = world.BImportId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.imports.v1.ImportService.ListImports"] = async world => ExpectNoneOf(
            await world.Call(Rpcs.Imports("ListImports"), new ListImportsRequest(), await world.SessionOfA()), world.BImportId),
        ["invisible.imports.v1.ImportService.DownloadErrors"] = async world => Expect(
            await world.Call(Rpcs.Imports("DownloadErrors"), new DownloadErrorsRequest { ImportId = world.BImportId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.imports.v1.ImportService.GetColumnMapping"] = async world => ExpectOk(
            await world.Call(Rpcs.Imports("GetColumnMapping"), new GetColumnMappingRequest { Kind = DocumentKind.Invoices }, await world.SessionOfA())),
        ["invisible.imports.v1.ImportService.SaveColumnMapping"] = async world => ExpectOk(
            await world.Call(Rpcs.Imports("SaveColumnMapping"), new SaveColumnMappingRequest { Kind = DocumentKind.Invoices }, await world.SessionOfA())),

        // B's invoice must stay out of A's lists, pages and exports, and A's reconcile must not decide it (its status is in B's snapshot).
        ["invisible.matching.v1.MatchingService.Reconcile"] = async world => ExpectOk(
            await world.Call(MatchingReflection.Descriptor.Services[0].FindMethodByName("Reconcile"), new ReconcileRequest(), await world.SessionOfA())),
        ["invisible.matching.v1.MatchingService.ListInvoices"] = async world => ExpectNoneOf(
            await world.Call(MatchingReflection.Descriptor.Services[0].FindMethodByName("ListInvoices"), new ListInvoicesRequest(), await world.SessionOfA()), world.BInvoiceId),
        ["invisible.matching.v1.MatchingService.GetInvoice"] = async world => Expect(
            await world.Call(MatchingReflection.Descriptor.Services[0].FindMethodByName("GetInvoice"), new GetInvoiceRequest { InvoiceId = world.BInvoiceId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.matching.v1.MatchingService.ExportResults"] = async world =>
        {
            var reply = await world.Call(MatchingReflection.Descriptor.Services[0].FindMethodByName("ExportResults"), new ExportResultsRequest(), await world.SessionOfA());
            return ExpectOk(reply) ?? (reply.As<ExportResultsResponse>().Csv.ToStringUtf8().Contains(IsolationWorld.BInvoiceNumber, StringComparison.Ordinal)
                ? "the export lists B's invoice"
                : null);
        },

        // Exception queue and tolerances: B's queue item is never found, listed, changed or counted with A's credentials.
        ["invisible.exceptions.v1.ExceptionService.ListExceptions"] = async world => ExpectNoneOf(
            await world.Call(QueueRpc("ListExceptions"), new ListExceptionsRequest { States = { ExceptionState.Open, ExceptionState.InReview, ExceptionState.Resolved, ExceptionState.Dismissed } }, await world.SessionOfA()),
            world.BExceptionId, world.BInvoiceId),
        ["invisible.exceptions.v1.ExceptionService.GetException"] = async world => Expect(
            await world.Call(QueueRpc("GetException"), new GetExceptionRequest { ExceptionId = world.BExceptionId }, await world.SessionOfA()), StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.AssignException"] = async world => Expect(
            await world.Call(QueueRpc("AssignException"), new AssignExceptionRequest { ExceptionId = world.BExceptionId, UserId = world.BClerkId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.ApproveException"] = async world => Expect(
            await world.Call(QueueRpc("ApproveException"), new ApproveExceptionRequest { ExceptionId = world.BExceptionId, Reason = "a's override" }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.RejectException"] = async world => Expect(
            await world.Call(QueueRpc("RejectException"), new RejectExceptionRequest { ExceptionId = world.BExceptionId, Reason = "a's rejection" }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.ListRematchCandidates"] = async world => Expect(
            await world.Call(QueueRpc("ListRematchCandidates"), new ListRematchCandidatesRequest { ExceptionId = world.BExceptionId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.RematchException"] = async world => Expect(
            await world.Call(QueueRpc("RematchException"), new RematchExceptionRequest { ExceptionId = world.BExceptionId, PoNumber = "PO-1", Reason = "a's rematch" }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.MarkNotDuplicate"] = async world => Expect(
            await world.Call(QueueRpc("MarkNotDuplicate"), new MarkNotDuplicateRequest { ExceptionId = world.BExceptionId, Reason = "a says so" }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.AssignVendor"] = async world => Expect(
            await world.Call(QueueRpc("AssignVendor"), new AssignVendorRequest { ExceptionId = world.BExceptionId, VendorCode = IsolationWorld.BVendorCode }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.exceptions.v1.ExceptionService.BulkAction"] = async world =>
        {
            var reply = await world.Call(QueueRpc("BulkAction"), new BulkActionRequest { Action = BulkActionKind.Reject, ExceptionIds = { world.BExceptionId }, Reason = "bulk" }, await world.SessionOfA());
            return ExpectOk(reply) ?? (reply.As<BulkActionResponse>().Results.Single().Ok ? "A's bulk action changed B's exception" : null);
        },
        // Approval policies and delegations: A reads, previews and changes its own; B's rule, delegation and exception stay out of sight and unchanged.
        ["invisible.exceptions.v1.ApprovalService.GetApprovalRules"] = async world => ExpectNoneOf(
            await world.Call(ApprovalRpc("GetApprovalRules"), new GetApprovalRulesRequest(), await world.SessionOfA()), IsolationWorld.BRuleName),
        ["invisible.exceptions.v1.ApprovalService.SetApprovalRules"] = async world => ExpectOk(
            await world.Call(ApprovalRpc("SetApprovalRules"), new SetApprovalRulesRequest
            {
                Rules = { new Contracts.Exceptions.V1.ApprovalRule { Name = "A's rule", RequiredApprovals = 2 } }, FourEyes = true,
            }, await world.SessionOfA())),
        ["invisible.exceptions.v1.ApprovalService.PreviewApprovalRules"] = async world => ExpectNoneOf(
            await world.Call(ApprovalRpc("PreviewApprovalRules"), new PreviewApprovalRulesRequest(), await world.SessionOfA()), world.BExceptionId, IsolationWorld.BInvoiceNumber),
        ["invisible.exceptions.v1.ApprovalService.ListDelegations"] = async world => ExpectNoneOf(
            await world.Call(ApprovalRpc("ListDelegations"), new ListDelegationsRequest(), await world.SessionOfA()), world.BDelegationId, world.BClerkId),
        ["invisible.exceptions.v1.ApprovalService.CreateDelegation"] = async world => Expect(
            await world.Call(ApprovalRpc("CreateDelegation"), new CreateDelegationRequest
            {
                DelegateId = world.BClerkId, EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(1)),
            }, await world.SessionOfA()),
            StatusCode.InvalidArgument),
        ["invisible.exceptions.v1.ApprovalService.RevokeDelegation"] = async world => Expect(
            await world.Call(ApprovalRpc("RevokeDelegation"), new RevokeDelegationRequest { DelegationId = world.BDelegationId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.matching.v1.MatchingService.GetTolerances"] = async world => ExpectOk(
            await world.Call(MatchingRpc("GetTolerances"), new GetTolerancesRequest(), await world.SessionOfA())),
        // A's tolerance change re-evaluates A's open exceptions only: B's decisions and audit trail stay as they were.
        ["invisible.matching.v1.MatchingService.SetTolerance"] = async world => ExpectOk(
            await world.Call(MatchingRpc("SetTolerance"), new SetToleranceRequest
            {
                Settings = new ToleranceSettings { PriceTolerancePercent = "50", QuantityTolerancePercent = "50", TotalTolerance = "100" },
            }, await world.SessionOfA())),
        ["invisible.matching.v1.MatchingService.PreviewTolerance"] = async world =>
        {
            var reply = await world.Call(MatchingRpc("PreviewTolerance"), new PreviewToleranceRequest
            {
                Settings = new ToleranceSettings { PriceTolerancePercent = "50", QuantityTolerancePercent = "50", TotalTolerance = "100" },
            }, await world.SessionOfA());
            return ExpectOk(reply) ?? (reply.As<PreviewToleranceResponse>().OpenExceptions == 0 ? null : "the preview counted B's open exception");
        },
        ["invisible.matching.v1.MatchingService.GetDashboard"] = async world =>
        {
            var reply = await world.Call(MatchingRpc("GetDashboard"), new GetDashboardRequest(), await world.SessionOfA());
            return ExpectOk(reply) ?? (reply.As<Dashboard>() is { InvoiceCount: 0, AmountHeld.Count: 0 } ? null : "the dashboard counts B's invoice or exception");
        },

        // The stream carries the caller's tenant's events only; B's import row above is committed, so none of it may appear.
        ["invisible.events.v1.EventService.Watch"] = async world => ExpectNoneOf(
            await world.Call(EventsReflection.Descriptor.Services[0].FindMethodByName("Watch"), new WatchRequest(), await world.SessionOfA(), ShortDeadline),
            world.BImportId),

        // Vendors and the audit log: B's vendor code finds nothing, and none of B's trail shows in A's list, export or verification.
        ["invisible.vendors.v1.VendorService.ListVendors"] = async world => ExpectNoneOf(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("ListVendors"), new ListVendorsRequest { Query = IsolationWorld.BVendorCode }, await world.SessionOfA()),
            IsolationWorld.BVendorCode),
        ["invisible.vendors.v1.VendorService.ListDuplicateClusters"] = async world => ExpectNoneOf(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("ListDuplicateClusters"), new ListDuplicateClustersRequest(), await world.SessionOfA()),
            IsolationWorld.BVendorCode),
        ["invisible.vendors.v1.VendorService.MergeVendors"] = async world => Expect(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("MergeVendors"),
                new MergeVendorsRequest { SurvivorCode = IsolationWorld.BVendorCode, MergedCodes = { IsolationWorld.BTwinVendorCode } }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.vendors.v1.VendorService.UnmergeVendor"] = async world => Expect(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("UnmergeVendor"), new UnmergeVendorRequest { MergeId = world.BMergeId }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.vendors.v1.VendorService.DismissDuplicate"] = async world => Expect(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("DismissDuplicate"),
                new DismissDuplicateRequest { FirstVendorCode = IsolationWorld.BVendorCode, SecondVendorCode = IsolationWorld.BTwinVendorCode }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.vendors.v1.VendorService.GetMatchingModel"] = async world => ExpectOk(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("GetMatchingModel"), new GetMatchingModelRequest(), await world.SessionOfA())),
        // Retraining reads A's vendors and confirmed names only (row-level security); B's rows are compared after the run.
        ["invisible.vendors.v1.VendorService.RetrainMatchingModel"] = async world => ExpectOk(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("RetrainMatchingModel"), new RetrainMatchingModelRequest(), await world.SessionOfA())),
        ["invisible.vendors.v1.VendorService.GetVendor"] = async world => Expect(
            await world.Call(VendorsReflection.Descriptor.Services[0].FindMethodByName("GetVendor"), new GetVendorRequest { VendorCode = IsolationWorld.BVendorCode }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.audit.v1.AuditService.ListAuditEntries"] = async world => ExpectNoneOf(
            await world.Call(AuditReflection.Descriptor.Services[0].FindMethodByName("ListAuditEntries"), new ListAuditEntriesRequest { PageSize = 500 }, await world.SessionOfA()),
            world.BClerkId, world.BInvitationId, world.BApiKeyId, world.B.Id.ToString()),
        ["invisible.audit.v1.AuditService.ExportAuditLog"] = async world =>
        {
            var reply = await world.Call(AuditReflection.Descriptor.Services[0].FindMethodByName("ExportAuditLog"), new ExportAuditLogRequest(), await world.SessionOfA());
            return ExpectOk(reply) ?? (new[] { world.BClerkId, world.BInvitationId, world.BApiKeyId, world.B.Id.ToString() }
                .FirstOrDefault(id => reply.As<ExportAuditLogResponse>().Csv.ToStringUtf8().Contains(id, StringComparison.OrdinalIgnoreCase)) is { } leaked
                ? $"the export shows B's {leaked}"
                : null);
        },
        ["invisible.audit.v1.AuditService.VerifyAuditChain"] = async world =>
        {
            var reply = await world.Call(AuditReflection.Descriptor.Services[0].FindMethodByName("VerifyAuditChain"), new VerifyAuditChainRequest(), await world.SessionOfA());
            return ExpectOk(reply) ?? (reply.As<VerifyAuditChainResponse>().Ok ? null : "A's chain did not verify");
        },

        // E-mail intake: B's held message is not listed, read, released or discarded; B's address cannot become A's alias.
        ["invisible.intake.v1.IntakeService.ListMessages"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("ListMessages"), new ListMessagesRequest(), await world.SessionOfA()), world.BIntakeMessageId, "B-only subject"),
        ["invisible.intake.v1.IntakeService.GetMessage"] = async world => Expect(
            await world.Call(IntakeRpc("GetMessage"), new GetMessageRequest { MessageId = world.BIntakeMessageId }, await world.SessionOfA()), StatusCode.NotFound),
        ["invisible.intake.v1.IntakeService.ReleaseMessage"] = async world => Expect(
            await world.Call(IntakeRpc("ReleaseMessage"), new DecideMessageRequest { MessageId = world.BIntakeMessageId }, await world.SessionOfA()), StatusCode.NotFound),
        ["invisible.intake.v1.IntakeService.DiscardMessage"] = async world => Expect(
            await world.Call(IntakeRpc("DiscardMessage"), new DecideMessageRequest { MessageId = world.BIntakeMessageId }, await world.SessionOfA()), StatusCode.NotFound),
        ["invisible.intake.v1.IntakeService.GetIntakeSettings"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("GetIntakeSettings"), new GetIntakeSettingsRequest(), await world.SessionOfA()), world.B.Slug),
        ["invisible.intake.v1.IntakeService.AddAddress"] = async world => Expect(
            await world.Call(IntakeRpc("AddAddress"), new AddAddressRequest { Address = $"{world.B.Slug}@invoices.localhost" }, await world.SessionOfA()), StatusCode.AlreadyExists),
        ["invisible.intake.v1.IntakeService.AddAllowlistEntry"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("AddAllowlistEntry"), new AddAllowlistEntryRequest { Entry = "@a-partner.example" }, await world.SessionOfA()), world.B.Slug),
        // B's connected mailbox is neither shown to A nor changed or disconnected by A's calls (the snapshot holds it).
        ["invisible.intake.v1.IntakeService.GetMailbox"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("GetMailbox"), new GetMailboxRequest(), await world.SessionOfA()), IsolationWorld.BMailboxHost),
        ["invisible.intake.v1.IntakeService.SetMailbox"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("SetMailbox"), new SetMailboxRequest
            {
                Settings = new MailboxSettings { Host = "imap.a.example", Port = 993, Tls = "implicit", Username = "a-user" }, Password = "a-password",
            }, await world.SessionOfA()), IsolationWorld.BMailboxHost),
        ["invisible.intake.v1.IntakeService.TestMailbox"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("TestMailbox"), new TestMailboxRequest
            {
                Settings = new MailboxSettings { Host = "127.0.0.1", Port = 1, Tls = "none", Username = "a-user" }, Password = "a-password",
            }, await world.SessionOfA()), IsolationWorld.BMailboxHost),
        ["invisible.intake.v1.IntakeService.DisconnectMailbox"] = async world => ExpectNoneOf(
            await world.Call(IntakeRpc("DisconnectMailbox"), new DisconnectMailboxRequest(), await world.SessionOfA()), IsolationWorld.BMailboxHost),

        // Keying: B's to-key item is not listed, read, keyed or discarded, and B's purchase order offers no lines to pick.
        ["invisible.keying.v1.KeyingService.ListToKeyItems"] = async world => ExpectNoneOf(
            await world.Call(KeyingRpc("ListToKeyItems"), new ListToKeyItemsRequest(), await world.SessionOfA()), world.BToKeyItemId, "B-only subject"),
        ["invisible.keying.v1.KeyingService.GetToKeyItem"] = async world => Expect(
            await world.Call(KeyingRpc("GetToKeyItem"), new GetToKeyItemRequest { ItemId = world.BToKeyItemId }, await world.SessionOfA()), StatusCode.NotFound),
        ["invisible.keying.v1.KeyingService.ListOpenPurchaseOrderLines"] = async world => Expect(
            await world.Call(KeyingRpc("ListOpenPurchaseOrderLines"), new ListOpenPurchaseOrderLinesRequest { PoNumber = IsolationWorld.BPoNumber }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.keying.v1.KeyingService.SubmitKeyedInvoice"] = async world => Expect(
            await world.Call(KeyingRpc("SubmitKeyedInvoice"), new SubmitKeyedInvoiceRequest
            {
                ItemId = world.BToKeyItemId, VendorName = "Vendor of B", InvoiceNumber = "A-KEYED-1", InvoiceDate = "2026-01-12", Currency = "EUR", InvoiceTotal = "10.00",
                Lines = { new KeyedLine { Description = "Widget", Quantity = "1", UnitPrice = "10.00", Amount = "10.00" } },
            }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.keying.v1.KeyingService.DiscardToKeyItem"] = async world => Expect(
            await world.Call(KeyingRpc("DiscardToKeyItem"), new DiscardToKeyItemRequest { ItemId = world.BToKeyItemId }, await world.SessionOfA()), StatusCode.NotFound),
        // QuickBooks: A (never connected) sees none of B's company or exports, and cannot retry or disconnect B's.
        ["invisible.quickbooks.v1.QuickBooksService.GetConnection"] = async world => ExpectNoneOf(
            await world.Call(QuickBooksRpc("GetConnection"), new GetConnectionRequest(), await world.SessionOfA()), IsolationWorld.BQuickBooksCompany, IsolationWorld.BQuickBooksRealm),
        ["invisible.quickbooks.v1.QuickBooksService.StartConnect"] = async world => Expect(
            await world.Call(QuickBooksRpc("StartConnect"), new StartConnectRequest { RedirectUri = "http://localhost/quickbooks/callback" }, await world.SessionOfA()),
            StatusCode.FailedPrecondition),
        ["invisible.quickbooks.v1.QuickBooksService.Disconnect"] = async world => ExpectNoneOf(
            await world.Call(QuickBooksRpc("Disconnect"), new DisconnectRequest(), await world.SessionOfA()), IsolationWorld.BQuickBooksCompany, IsolationWorld.BQuickBooksRealm),
        ["invisible.quickbooks.v1.QuickBooksService.Configure"] = async world => Expect(
            await world.Call(QuickBooksRpc("Configure"), new ConfigureRequest { CreateMissingVendors = true }, await world.SessionOfA()), StatusCode.FailedPrecondition),
        ["invisible.quickbooks.v1.QuickBooksService.ListExports"] = async world => ExpectNoneOf(
            await world.Call(QuickBooksRpc("ListExports"), new ListExportsRequest(), await world.SessionOfA()), world.BInvoiceId, IsolationWorld.BQuickBooksBillId),
        ["invisible.quickbooks.v1.QuickBooksService.GetCompanyLists"] = async world => Expect(
            await world.Call(QuickBooksRpc("GetCompanyLists"), new GetCompanyListsRequest(), await world.SessionOfA()), StatusCode.FailedPrecondition),
        ["invisible.quickbooks.v1.QuickBooksService.ListVendorMappings"] = async world => ExpectNoneOf(
            await world.Call(QuickBooksRpc("ListVendorMappings"), new ListVendorMappingsRequest(), await world.SessionOfA()),
            IsolationWorld.BVendorCode, world.BVendorId, IsolationWorld.BQuickBooksVendor),
        ["invisible.quickbooks.v1.QuickBooksService.SetVendorMapping"] = async world => Expect(
            await world.Call(QuickBooksRpc("SetVendorMapping"), new SetVendorMappingRequest { VendorId = world.BVendorId, QboVendorId = "1" }, await world.SessionOfA()),
            StatusCode.NotFound),
        ["invisible.quickbooks.v1.QuickBooksService.RetryExport"] = async world => Expect(
            await world.Call(QuickBooksRpc("RetryExport"), new RetryExportRequest { InvoiceId = world.BInvoiceId }, await world.SessionOfA()), StatusCode.NotFound),

        // Notifications: A's own preferences and bell only; B's notification is neither listed nor marked read, and a
        // link's token names its own tenant and person (a made-up one is refused).
        ["invisible.notifications.v1.NotificationService.GetNotificationPreferences"] = async world => ExpectOk(
            await world.Call(NotificationRpc("GetNotificationPreferences"), new GetNotificationPreferencesRequest(), await world.SessionOfA())),
        ["invisible.notifications.v1.NotificationService.SetNotificationPreferences"] = async world => ExpectOk(
            await world.Call(NotificationRpc("SetNotificationPreferences"), new SetNotificationPreferencesRequest
            {
                Preferences = { new NotificationPreference { Kind = "exception_assigned", Email = false, InApp = false, Digest = false } },
            }, await world.SessionOfA())),
        ["invisible.notifications.v1.NotificationService.ListNotifications"] = async world => ExpectNoneOf(
            await world.Call(NotificationRpc("ListNotifications"), new ListNotificationsRequest(), await world.SessionOfA()), world.BNotificationId, IsolationWorld.BNotificationSubject),
        ["invisible.notifications.v1.NotificationService.MarkNotificationsRead"] = async world => ExpectOk(
            await world.Call(NotificationRpc("MarkNotificationsRead"), new MarkNotificationsReadRequest { NotificationIds = { world.BNotificationId } }, await world.SessionOfA())),
        ["invisible.notifications.v1.NotificationService.Unsubscribe"] = async world => Expect(
            await world.Call(NotificationRpc("Unsubscribe"), new UnsubscribeRequest { Token = world.BNotificationId }, await world.SessionOfA()), StatusCode.InvalidArgument),

        ["grpc.health.v1.Health.Check"] = async world => ExpectOk(
            await world.Call(HealthReflection.Descriptor.Services[0].FindMethodByName("Check"), new HealthCheckRequest(), await world.SessionOfA())),
        ["grpc.health.v1.Health.Watch"] = async world => Expect(
            await world.Call(HealthReflection.Descriptor.Services[0].FindMethodByName("Watch"), new HealthCheckRequest(), await world.SessionOfA(), ShortDeadline),
            StatusCode.DeadlineExceeded),
    };

    private static Google.Protobuf.Reflection.MethodDescriptor KeyingRpc(string name) => KeyingReflection.Descriptor.Services[0].FindMethodByName(name);
    private static Google.Protobuf.Reflection.MethodDescriptor QuickBooksRpc(string name) => QuickbooksReflection.Descriptor.Services[0].FindMethodByName(name);

    private static Google.Protobuf.Reflection.MethodDescriptor NotificationRpc(string name) => NotificationsReflection.Descriptor.Services[0].FindMethodByName(name);

    private static Google.Protobuf.Reflection.MethodDescriptor IntakeRpc(string name) => IntakeReflection.Descriptor.Services[0].FindMethodByName(name);

    private static Google.Protobuf.Reflection.MethodDescriptor QueueRpc(string name) => ExceptionsReflection.Descriptor.Services[0].FindMethodByName(name);

    private static Google.Protobuf.Reflection.MethodDescriptor ApprovalRpc(string name) => ApprovalsReflection.Descriptor.Services[0].FindMethodByName(name);

    private static Google.Protobuf.Reflection.MethodDescriptor MatchingRpc(string name) => MatchingReflection.Descriptor.Services[0].FindMethodByName(name);

    /// <summary>Every RPC of every service in the product's protos (Invisible.Contracts) and the gRPC health service.</summary>
    public static IReadOnlyList<MethodDescriptor> AllRpcs { get; } = typeof(AuthReflection).Assembly.GetTypes()
        .Select(type => type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static))
        .Where(property => property?.PropertyType == typeof(FileDescriptor))
        .SelectMany(property => ((FileDescriptor)property!.GetValue(null)!).Services)
        .Concat(HealthReflection.Descriptor.Services)
        .SelectMany(service => service.Methods)
        .ToList();

    [Fact]
    public async Task Every_RPC_is_served_with_a_declared_access_policy_and_nothing_else_is_served()
    {
        var names = AllRpcs.Select(method => method.FullName).ToHashSet();
        var declared = await DeclaredAccess.OfServerAsync(server.Server.Services);

        var withoutPolicy = names.Where(name => !declared.ContainsKey(name)).ToList();
        var servedButNotInTheProtos = declared.Keys.Where(name => !names.Contains(name) && !name.StartsWith("grpc.reflection.", StringComparison.Ordinal)).ToList();

        Assert.Empty(withoutPolicy);
        Assert.Empty(servedButNotInTheProtos);
    }

    [Fact]
    public void Every_method_of_every_service_class_carries_an_access_attribute_of_its_own()
    {
        var serviceClasses = typeof(AuthServiceHandler).Assembly.GetTypes()
            .Where(type => type.BaseType?.GetCustomAttribute<Grpc.Core.BindServiceMethodAttribute>() is not null);

        var undeclared = serviceClasses
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(method => method.GetBaseDefinition().DeclaringType != method.DeclaringType)
                .Where(method => method.GetCustomAttribute<Microsoft.AspNetCore.Authorization.AllowAnonymousAttribute>() is null &&
                                 method.GetCustomAttribute<Microsoft.AspNetCore.Authorization.AuthorizeAttribute>()?.Policy is null)
                .Select(method => $"{type.Name}.{method.Name}"))
            .ToList();

        Assert.NotEmpty(serviceClasses);
        Assert.Empty(undeclared);
    }

    [Fact]
    public void Every_RPC_has_a_tenant_isolation_case()
    {
        var withoutCase = AllRpcs.Select(method => method.FullName).Where(name => !IsolationCases.ContainsKey(name)).ToList();

        Assert.Empty(withoutCase);
    }

    [Fact]
    public void No_request_names_a_tenant_because_the_tenant_comes_from_the_token()
    {
        var tenantFields = AllRpcs
            .SelectMany(method => method.InputType.Fields.InDeclarationOrder().Select(field => $"{method.FullName}: {field.Name}"))
            .Where(field => field.Contains("tenant", StringComparison.OrdinalIgnoreCase));

        // Sign-in and "Forgot password?" are the exceptions: they happen before there is a token, and only narrow which account is meant.
        Assert.Equal(["invisible.auth.v1.AuthService.SignIn: tenant_slug", "invisible.auth.v1.AuthService.RequestPasswordReset: tenant_slug"], tenantFields);
    }

    [Fact]
    public async Task Every_RPC_except_sign_in_and_health_requires_a_valid_token()
    {
        var tenant = await server.NewTenantAsync();
        var session = await tenant.FullSessionAsync(tenant.Admin);
        var tampered = session.AccessToken[..^4] + (session.AccessToken.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        var problems = new List<string>();

        var declared = await DeclaredAccess.OfServerAsync(server.Server.Services);

        foreach (var method in AllRpcs)
        {
            var anonymous = await tenant.CallAsync(method, EmptyRequest(method), deadline: ShortDeadline);
            var forged = await tenant.CallAsync(method, EmptyRequest(method), tampered, deadline: ShortDeadline);
            var policy = declared.GetValueOrDefault(method.FullName);
            if (policy is null)
            {
                problems.Add($"{method.FullName} has no access policy");
            }
            else if (policy.Anonymous)
            {
                if (anonymous.Reason is null && anonymous.Status == StatusCode.Unauthenticated)
                {
                    problems.Add($"{method.FullName} refused an anonymous call: {anonymous}");
                }
            }
            else
            {
                if (anonymous.Status != StatusCode.Unauthenticated || forged.Status != StatusCode.Unauthenticated)
                {
                    problems.Add($"{method.FullName}: no token gave {anonymous}, a tampered one {forged}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task With_tenant_As_credentials_no_RPC_reaches_tenant_Bs_data()
    {
        var world = await IsolationWorld.CreateAsync(server);
        var before = await world.SnapshotOfBAsync();
        var problems = new List<string>();

        foreach (var method in AllRpcs)
        {
            if (IsolationCases.TryGetValue(method.FullName, out var isolationCase) && await isolationCase(world) is { } problem)
            {
                problems.Add($"{method.FullName}: {problem}");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(before, await world.SnapshotOfBAsync());
        Assert.Null(await world.BStillSignedIn());
    }

    [Fact]
    public async Task Each_role_and_each_API_key_role_gets_exactly_what_the_declared_policies_allow()
    {
        var tenant = await server.NewTenantAsync();
        var people = new Dictionary<string, TestUser> { [Roles.Admin] = tenant.Admin };
        foreach (var role in Roles.All.Where(role => role != Roles.Admin))
        {
            people[role] = await tenant.AddUserAsync(role);
        }

        var adminToken = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var keys = new Dictionary<string, string>();
        foreach (var role in Roles.All)
        {
            keys[role] = (await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = $"{role} robot", Role = role }, adminToken))
                .As<CreateApiKeyResponse>().Key;
        }

        var problems = new List<string>();
        var sessions = new Dictionary<string, string>();
        var declared = await DeclaredAccess.OfServerAsync(server.Server.Services);
        foreach (var method in AllRpcs)
        {
            var policy = declared.GetValueOrDefault(method.FullName);
            if (policy is null)
            {
                problems.Add($"{method.FullName} has no access policy");
                continue;
            }

            if (policy.Anonymous)
            {
                continue;
            }

            foreach (var role in Roles.All)
            {
                var allowed = policy.SessionOnly || policy.Roles.Contains(role);
                if (!sessions.TryGetValue(role, out var session) ||
                    (await tenant.CallAsync(Rpcs.Auth("GetSession"), new GetSessionRequest(), session)).Status != StatusCode.OK)
                {
                    // The previous method ended it (sign-out), or a throttled MFA attempt was refused: sign in again.
                    sessions[role] = session = (await tenant.FullSessionAsync(people[role])).AccessToken;
                }

                var asPerson = await tenant.CallAsync(method, EmptyRequest(method), session, deadline: ShortDeadline);
                var asKey = await tenant.CallAsync(method, EmptyRequest(method), apiKey: keys[role], deadline: ShortDeadline);
                CheckOutcome(problems, $"{method.FullName} as {role}", asPerson, allowed ? null : "ROLE_NOT_PERMITTED");
                CheckOutcome(problems, $"{method.FullName} as a {role} API key", asKey,
                    policy.PeopleOnly ? "USER_SESSION_REQUIRED" : allowed ? null : "ROLE_NOT_PERMITTED");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static void CheckOutcome(List<string> problems, string what, RpcReply reply, string? expectedRefusal)
    {
        string[] refusals = ["ROLE_NOT_PERMITTED", "MFA_REQUIRED", "USER_SESSION_REQUIRED"];
        var refused = reply.Status == StatusCode.Unauthenticated || (reply.Status == StatusCode.PermissionDenied && refusals.Contains(reply.Reason));
        if (expectedRefusal is null ? refused : (reply.Status, reply.Reason) != (StatusCode.PermissionDenied, expectedRefusal))
        {
            problems.Add($"{what}: expected {expectedRefusal ?? "to be let through"}, got {reply}");
        }
    }

    private static IMessage EmptyRequest(MethodDescriptor method) => method.InputType.Parser.ParseFrom(ByteString.Empty);

    private static string? Expect(RpcReply reply, StatusCode expected) =>
        reply.Status == expected ? null : $"expected {expected}, got {reply}";

    private static string? ExpectOk(RpcReply reply) => Expect(reply, StatusCode.OK);

    /// <summary>A successful (or deadline-ended stream) reply that mentions none of B's identifiers.</summary>
    private static string? ExpectNoneOf(RpcReply reply, params string[] identifiersOfB)
    {
        if (reply.Status is not (StatusCode.OK or StatusCode.DeadlineExceeded))
        {
            return $"expected a reply, got {reply}";
        }

        var text = string.Join(Environment.NewLine, reply.Messages);
        return identifiersOfB.FirstOrDefault(id => text.Contains(id, StringComparison.OrdinalIgnoreCase)) is { } leaked ? $"the reply shows B's {leaked}" : null;
    }
}

/// <summary>Tenants A and B, with B owning one of everything an RPC can name: a user, an invitation, an API key, an upload, an import, an invoice.</summary>
internal sealed class IsolationWorld
{
    private IsolationWorld(TestTenant a, TestTenant b) => (A, B) = (a, b);

    public TestTenant A { get; }

    public TestTenant B { get; }

    public string BAccessToken { get; private set; } = "";

    public Guid BSession { get; private set; }

    public string BClerkId { get; private set; } = "";

    public string BInvitationId { get; private set; } = "";

    public string BApiKeyId { get; private set; } = "";

    public string BUploadId { get; private set; } = "";

    public string BImportId { get; private set; } = "";

    public const string BInvoiceNumber = "B-ISOLATED-1";

    public const string BVendorCode = "B-VENDOR-ISOLATED";

    /// <summary>A vendor of B merged into <see cref="BVendorCode"/> by <see cref="BMergeId"/>.</summary>
    public const string BTwinVendorCode = "B-VENDOR-TWIN";

    public string BMergeId { get; private set; } = "";
    public const string BMailboxHost = "b-only-imap.example";

    public string BInvoiceId { get; private set; } = "";

    public string BExceptionId { get; private set; } = "";

    public string BIntakeMessageId { get; private set; } = "";

    /// <summary>A PDF of B's held message kept to key: <c>&lt;message id&gt;-&lt;ordinal&gt;</c>.</summary>
    public string BToKeyItemId { get; private set; } = "";

    public const string BPoNumber = "B-PO-ISOLATED";
    public const string BQuickBooksCompany = "B-only QuickBooks company";

    public const string BQuickBooksRealm = "B-ONLY-REALM";

    public const string BQuickBooksBillId = "B-ONLY-BILL-77";

    public const string BQuickBooksVendor = "B-only QuickBooks vendor";

    public string BVendorId { get; private set; } = "";
    public const string BRuleName = "B-ONLY-APPROVAL-RULE";

    public string BDelegationId { get; private set; } = "";

    public const string BNotificationSubject = "B-ONLY-NOTIFICATION";

    public string BNotificationId { get; private set; } = "";

    public static async Task<IsolationWorld> CreateAsync(AccountsServer server)
    {
        var world = new IsolationWorld(await server.NewTenantAsync(), await server.NewTenantAsync());
        var b = world.B;
        var clerk = await b.AddUserAsync(Roles.Clerk);
        var session = await b.FullSessionAsync(b.Admin);
        world.BAccessToken = session.AccessToken;
        var token = session.AccessToken;
        world.BClerkId = (await b.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), token)).As<ListUsersResponse>().Users.Single(user => user.Email == clerk.Email).Id;
        world.BInvitationId = (await b.CallAsync(Rpcs.Admin("InviteUser"), new InviteUserRequest { Email = "later@b.example", Role = Roles.Auditor }, token))
            .As<InviteUserResponse>().Invitation.Id;
        world.BApiKeyId = (await b.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "b's importer", Role = Roles.Clerk }, token))
            .As<CreateApiKeyResponse>().ApiKey.Id;
        world.BUploadId = (await b.CallAsync(Rpcs.Imports("StartUpload"), new StartUploadRequest { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = 100 }, token))
            .As<StartUploadResponse>().UploadId;
        await using (var unitOfWork = await b.Database.BeginAsync(b.Id, CancellationToken.None))
        {
            world.BImportId = (await unitOfWork.Db.ExecuteAsync<Guid>(
                "insert into imports (tenant_id, kind, file_name, content_sha256) values (@tenantId, 'vendors', 'b-vendors.csv', sha256('b'::bytea)) returning id", new { tenantId = b.Id }, CancellationToken.None)).ToString();
            world.BInvoiceId = (await unitOfWork.Db.ExecuteAsync<Guid>(
                """
                insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized, printed_vendor_name,
                                      invoice_date, currency, invoice_total)
                values (@tenantId, @importId::uuid, 1, @number, @number, 'Vendor of B', date '2026-01-12', 'EUR', 10)
                returning id
                """, new { tenantId = b.Id, importId = world.BImportId, number = BInvoiceNumber }, CancellationToken.None)).ToString();
            await unitOfWork.Db.ExecuteAsync(
                "insert into vendors (tenant_id, vendor_code, name) values (@tenantId, @code, 'Vendor of B')", new { tenantId = b.Id, code = BVendorCode }, CancellationToken.None);
            world.BExceptionId = await Exceptions.IsolationExceptions.InsertOpenExceptionAsync(unitOfWork, b.Id, world.BInvoiceId);
            world.BMergeId = (await unitOfWork.Db.ExecuteAsync<Guid>(
                """
                with survivor as (select id from vendors where vendor_code = @code),
                twin as (insert into vendors (tenant_id, vendor_code, name, merged_into) select @tenantId, @twin, 'Vendor of B (twin)', id from survivor returning id)
                insert into vendor_merges (tenant_id, survivor_id, merged_vendor_ids, changes, merged_by)
                select @tenantId, survivor.id, array[twin.id], '{"aliasesBefore":[],"aliasesAdded":[],"purchaseOrders":[],"invoices":[],"exceptionsBefore":[],"exceptionsAdded":[],"reevaluatedInvoices":[]}', 'test'
                from survivor, twin
                returning id
                """, new { tenantId = b.Id, code = BVendorCode, twin = BTwinVendorCode }, CancellationToken.None)).ToString();
            world.BIntakeMessageId = (await unitOfWork.Db.ExecuteAsync<Guid>(
                """
                insert into intake_messages (tenant_id, source, content_sha256, from_address, subject, size_bytes, status)
                values (@tenantId, 'smtp', encode(sha256('b-mail'::bytea), 'hex'), 'someone@b.example', 'B-only subject', 10, 'held')
                returning id
                """, new { tenantId = b.Id }, CancellationToken.None)).ToString();
            await unitOfWork.Db.ExecuteAsync(
                """
                insert into intake_attachments (tenant_id, message_id, ordinal, path, file_name, content_type, size_bytes, outcome, pdf_blob)
                values (@tenantId, @messageId::uuid, 0, 'b-scan.pdf', 'b-scan.pdf', 'application/pdf', 10, 'to_key', 'tenants/b/intake/b-scan.pdf')
                """, new { tenantId = b.Id, messageId = world.BIntakeMessageId }, CancellationToken.None);
            world.BToKeyItemId = $"{Guid.Parse(world.BIntakeMessageId):N}-0";
            await unitOfWork.Db.ExecuteAsync(
                """
                insert into purchase_orders (tenant_id, po_number, po_number_normalized, vendor_id, order_date, currency)
                select @tenantId, @po, 'BPOISOLATED', id, date '2026-01-05', 'EUR' from vendors where vendor_code = @code
                """, new { tenantId = b.Id, po = BPoNumber, code = BVendorCode }, CancellationToken.None);
            await unitOfWork.Db.ExecuteAsync(
                """
                insert into quickbooks_connections (tenant_id, realm_id, company_name, refresh_token, refresh_token_key_id, connected_by)
                values (@tenantId, @realm || '-' || @tenantId::text, @company, '\x00', 'seed-key', 'seed');
                insert into quickbooks_exports (tenant_id, invoice_id, kind, state, qbo_id, request_id, reason)
                values (@tenantId, @invoiceId::uuid, 'bill', 'failed', @billId, gen_random_uuid(), 'B-only fault');
                insert into quickbooks_vendor_mappings (tenant_id, vendor_id, qbo_vendor_id, qbo_vendor_name, item_id, source, updated_by)
                select @tenantId, id, 'B-QBO-VENDOR', @qboVendor, 'B-QBO-ITEM', 'user', 'seed' from vendors where vendor_code = @code;
                """, new { tenantId = b.Id, realm = BQuickBooksRealm, company = BQuickBooksCompany, invoiceId = world.BInvoiceId, billId = BQuickBooksBillId,
                           qboVendor = BQuickBooksVendor, code = BVendorCode },
                CancellationToken.None);
            world.BVendorId = (await unitOfWork.Db.QueryToListAsync<Guid>(
                "select id from vendors where vendor_code = @code", new { code = BVendorCode }, CancellationToken.None)).Single().ToString();
            await unitOfWork.Db.ExecuteAsync(
                """
                insert into intake_mailboxes (tenant_id, host, port, tls, username, secret_name, updated_by)
                values (@tenantId, @host, 993, 'implicit', 'b-only-user', 'intake-mailbox-of-b', 'test')
                """, new { tenantId = b.Id, host = BMailboxHost }, CancellationToken.None);
            await unitOfWork.Db.ExecuteAsync(
                "insert into approval_rules (tenant_id, position, name, required_approvals, updated_by) values (@tenantId, 0, @name, 2, 'test')",
                new { tenantId = b.Id, name = BRuleName }, CancellationToken.None);
            world.BDelegationId = (await unitOfWork.Db.ExecuteAsync<Guid>(
                """
                insert into approval_delegations (tenant_id, delegator_id, delegate_id, starts_at, ends_at, created_by)
                select @tenantId, admin.id, @clerkId::uuid, now(), now() + interval '7 days', 'test' from users admin where admin.role = 'admin' limit 1
                returning id
                """, new { tenantId = b.Id, clerkId = world.BClerkId }, CancellationToken.None)).ToString();
            world.BNotificationId = (await unitOfWork.Db.ExecuteAsync<Guid>(
                """
                insert into notifications (tenant_id, event_id, user_id, channel, kind, subject, body, link)
                select @tenantId, gen_random_uuid(), admin.id, 'in_app', 'exception_assigned', @subject, 'B only', '/exceptions' from users admin where admin.role = 'admin' limit 1
                returning id
                """, new { tenantId = b.Id, subject = BNotificationSubject }, CancellationToken.None)).ToString();
            await unitOfWork.Db.ExecuteAsync(
                """
                insert into notification_preferences (tenant_id, user_id, kind, email, in_app, digest)
                select @tenantId, admin.id, 'exception_assigned', true, true, true from users admin where admin.role = 'admin' limit 1
                """, new { tenantId = b.Id }, CancellationToken.None);
            world.BSession = await unitOfWork.Db.ExecuteAsync<Guid>(
                "select family_id from refresh_tokens where revoked_at is null limit 1", CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        return world;
    }

    public Task<RpcReply> Call(Google.Protobuf.Reflection.MethodDescriptor method, IMessage request, string? token, TimeSpan? deadline = null) =>
        A.CallAsync(method, request, token, deadline: deadline);

    private string? _sessionOfA;

    /// <summary>A full session of A's administrator, signed in once and reused.</summary>
    public async Task<string> SessionOfA() => _sessionOfA ??= (await A.FullSessionAsync(A.Admin)).AccessToken;

    /// <summary>For a case that ends sessions: the next case signs in again.</summary>
    public async Task<string> SessionOfAToEnd()
    {
        var session = await SessionOfA();
        _sessionOfA = null;
        return session;
    }

    public async Task<string?> BStillSignedIn()
    {
        var reply = await B.CallAsync(Rpcs.Auth("GetSession"), new GetSessionRequest(), BAccessToken);
        return reply.Status == StatusCode.OK ? null : $"B's session ended: {reply}";
    }

    /// <summary>Everything of B an RPC could change, read from the database under B's row-level security.</summary>
    public async Task<string> SnapshotOfBAsync()
    {
        await using var unitOfWork = await B.Database.BeginAsync(B.Id, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<string>(
            """
            select json_build_object(
                'tenant', (select json_agg(t) from (select id, slug, display_name, mfa_required, four_eyes from tenants) t),
                'users', (select json_agg(u order by u.id) from (select id, encode(email_encrypted, 'hex') as email, role, password_hash, security_stamp, encode(mfa_secret, 'hex') as mfa,
                          mfa_enabled_at, mfa_last_step, recovery_code_hashes, disabled_at from users) u),
                'invitations', (select json_agg(i order by i.id) from (select id, encode(email_encrypted, 'hex') as email, role, accepted_at, revoked_at from invitations) i),
                'api_keys', (select json_agg(k order by k.id) from (select id, name, role, revoked_at from api_keys) k),
                'sessions', (select json_agg(r order by r.id) from (select id, revoked_at, replaced_by from refresh_tokens) r),
                'imports', (select json_agg(m order by m.id) from (select id, status, row_count from imports) m),
                'invoices', (select json_agg(i order by i.id) from (select id, status, vendor_id, purchase_order_id from invoices) i),
                'vendors', (select json_agg(v order by v.id) from (select id, vendor_code, merged_into from vendors) v),
                'vendor_merges', (select json_agg(m order by m.id) from (select id, unmerged_at from vendor_merges) m),
                'vendor_duplicate_dismissals', (select count(*) from vendor_duplicate_dismissals),
                'intake_attachments', (select json_agg(a order by a.message_id, a.ordinal) from (select message_id, ordinal, outcome from intake_attachments) a),
                'intake_mailboxes', (select json_agg(m) from (select host, username, secret_name, password_encrypted from intake_mailboxes) m),
                'match_decisions', (select count(*) from match_decisions),
                'quickbooks', (select json_agg(c) from (select realm_id, status, encode(refresh_token, 'hex') as token, default_expense_account_id, create_missing_vendors
                               from quickbooks_connections) c),
                'quickbooks_exports', (select json_agg(e order by e.invoice_id) from (select invoice_id, state, attempt, request_id, qbo_id from quickbooks_exports) e),
                'quickbooks_vendor_mappings', (select json_agg(m) from (select vendor_id, qbo_vendor_id, expense_account_id, item_id from quickbooks_vendor_mappings) m),
                'approval_rules', (select json_agg(r order by r.position) from (select position, name, required_approvals from approval_rules) r),
                'approval_delegations', (select json_agg(d order by d.id) from (select id, delegate_id, revoked_at from approval_delegations) d),
                'exception_approvals', (select count(*) from exception_approvals),
                'notifications', (select json_agg(n order by n.id) from (select id, read_at from notifications) n),
                'notification_preferences', (select json_agg(p order by p.user_id, p.kind) from (select user_id, kind, email, in_app, digest from notification_preferences) p),
                'audit_entries', (select count(*) from audit_log))::text
            """, CancellationToken.None) ?? "";
    }
}
