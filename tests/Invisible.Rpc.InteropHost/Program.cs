namespace Invisible.Rpc.InteropHost; internal static class Program { private static int Main() => 0; }
