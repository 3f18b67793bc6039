#include "engine_io/shadow_builds.hpp"

#include "engine_io/worker_context.hpp"
#include "store/copy_loader.hpp"
#include "store/hc_schema.hpp"
#include "sync/lease_fence.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace syncforce::engine_io {

shadow_build_result build_shadow_indexes(pqxx::connection& own, const std::string& database_url,
                                         const std::string& session_name,
                                         const std::vector<std::string>& statements,
                                         const actors::worker_context& ctx, std::size_t extra_sessions) {
  shadow_build_result result;
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::exception_ptr fenced;
  // Each session takes the next statement until none is left or the lease is lost.
  auto run = [&](pqxx::connection& conn) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (fenced)
          return;
      }
      const auto i = next.fetch_add(1);
      if (i >= statements.size())
        return;
      try {
        pqxx::work tx(conn, "shadow_index");
        store::build_shadow_index(tx, statements[i]);
        commit_fenced(tx, ctx);
        std::lock_guard<std::mutex> lock(mutex);
        ++result.built;
      } catch (const fenced_out&) {
        std::lock_guard<std::mutex> lock(mutex);
        fenced = std::current_exception();
        return;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        ++result.left;
        if (result.first_failure.empty())
          result.first_failure = e.what();
        if (!conn.is_open())
          return; // this session is gone; the others go on
      }
    }
  };
  const auto extra = std::min(extra_sessions, statements.size() > 1 ? statements.size() - 1 : 0);
  std::vector<std::thread> threads;
  threads.reserve(extra);
  for (std::size_t k = 0; k < extra; ++k)
    threads.emplace_back([&] {
      std::unique_ptr<pqxx::connection> conn;
      try {
        conn = store::open_engine_connection(database_url, session_name);
      } catch (const std::exception&) {
        return; // the worker's own session builds everything
      }
      run(*conn);
    });
  run(own);
  for (auto& t : threads)
    t.join();
  // Statements a vanished session never got to are the swap's.
  result.left += statements.size() > result.built + result.left ? statements.size() - result.built - result.left : 0;
  if (fenced)
    std::rethrow_exception(fenced);
  return result;
}

} // namespace syncforce::engine_io
