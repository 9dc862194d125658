#include "worker/sweeper.h"

#include <filesystem>
#include <vector>

#include "jobs/job.h"
#include "jobs/progress.h"
#include "projection/keys.h"

namespace reel::worker {

Result<SweepStats> Sweeper::sweep() {
  SweepStats stats;
  const int64_t created_before =
      (clock_.unix_ms() - options_.min_age.count()) / 1000;  // videos.created_at is in seconds
  std::vector<int64_t> old_enough;
  auto scanned = store_.for_each_video(catalog::VideoStatus::processing, [&](const catalog::Video& video) {
    if (video.created_at <= created_before) old_enough.push_back(video.id);
  });
  if (!scanned) return scanned.error();
  if (old_enough.empty()) return stats;

  std::vector<redis::Command> reads;
  for (int64_t id : old_enough) reads.push_back(jobs::progress_read_command(id));
  auto records = redis_.execute(std::move(reads));
  if (!records) return records.error();
  for (size_t i = 0; i < old_enough.size() && i < records->size(); ++i) {
    auto record = jobs::parse_progress((*records)[i]);
    if (!record || *record) continue;  // a job has it (a malformed record too: not ours to judge)
    const int64_t id = old_enough[i];
    ++stats.stuck;
    std::error_code ec;
    if (std::filesystem::exists(jobs::upload_path(options_.uploads_dir, id), ec)) {
      auto queued = requeue(id);
      if (!queued) return queued.error();
      stats.requeued += *queued ? 1 : 0;
      continue;
    }
    auto failed = store_.mark_failed_if_processing(id, lost_upload_reason);
    if (!failed) return failed.error();
    if (!*failed) continue;
    ++stats.failed;
    jobs::JobProgress progress(redis_, clock_, options_.progress_ttl);
    if (auto written = progress.set(id, jobs::JobState::failed, 0, lost_upload_reason); !written)
      return written.error();
  }
  return stats;
}

Result<bool> Sweeper::requeue(int64_t video_id) {
  // Queued only while job:{id} is absent: another sweeper, or the job itself, may write it meanwhile.
  const jobs::Job job{.video_id = video_id,
                      .kind = jobs::JobKind::transcode,
                      .enqueued_at_ms = clock_.unix_ms(),
                      .payload = jobs::upload_path(options_.uploads_dir, video_id)};
  return redis::execute_unless_exists(redis_, projection::keys::job_progress(video_id),
                                      jobs::enqueue_with_progress_commands(job, options_.progress_ttl),
                                      "queueing the job again");
}

}  // namespace reel::worker
