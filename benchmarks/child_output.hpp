// What the benchmark harnesses that measure in child processes share: collecting a child's output.
#pragma once

#include <string>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace slicenav::bench {

// What a finished child wrote on its pipe, and its wait status (WIFEXITED etc.).
struct ChildOutput {
  std::string text;
  int status = 0;
};

// Reads the read end `fd` of a child's output pipe to its end, closes it, and waits for the child `pid`.
inline ChildOutput collect_child(int fd, pid_t pid) {
  ChildOutput out;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) out.text.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  waitpid(pid, &out.status, 0);
  return out;
}

}  // namespace slicenav::bench
