// Deflate with a preset dictionary (see compact.h). One z_stream for each
// direction, shared under a mutex and reset between objects: a deflate state is
// ~256 KiB, so one per informer thread would cost more than it saves, and an
// object takes tens of microseconds, so the lock is never held for long.
#include "runtime/compact.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include <zlib.h>

namespace sot::runtime {

namespace {

// Field names and values Kubernetes objects and their defaults repeat, most
// frequent last (deflate reaches the end of the dictionary with the shortest
// distances). The program's own vocabulary (set_compression_vocabulary) goes
// before the last, most common part. Changing either makes every packed object
// unreadable, which is fine: the cache lives only in memory.
constexpr std::string_view kKubernetesWords =
    "hostPathvolumeClaimTemplatesvolumeModeFilesystemaccessModesReadWriteOncestorage"
    "podManagementPolicyOrderedReadyupdateStrategypartitionserviceNameheadless"
    "minAvailablemaxReplicasminReplicasmetricsaverageUtilizationUtilizationtargetscaleTargetRef"
    "policyTypesIngressEgressingressegressfromtoipBlockpodSelectornamespaceSelectorkubernetes.io/metadata.name"
    "ClusterIPclusterIPclusterIPsipFamiliesIPv4ipFamilyPolicySingleStacksessionAffinityNonetargetPortnodePort"
    "schedulesuccessfulJobsHistoryLimitfailedJobsHistoryLimitconcurrencyPolicyForbidjobTemplatebackoffLimit"
    "typeOpaquedatastringData"
    "lastScheduleTimelastUpdateTimelastTransitionTimereasonmessagestatusTrueFalseconditions"
    "NewReplicaSetAvailableMinimumReplicasAvailableDeployment has minimum availability.Progressing"
    "observedGenerationreplicasreadyReplicasavailableReplicasupdatedReplicascurrentReplicasupdateRevisioncurrentRevisio"
    "n"
    "collisionCountunavailableReplicasrevisionHistoryLimitprogressDeadlineSecondsstrategyRollingUpdatemaxSurgemaxUnavai"
    "lable25%"
    "dnsPolicyClusterFirstschedulerNamedefault-schedulerrestartPolicyAlwaysterminationGracePeriodSecondsserviceAccount"
    "serviceAccountNameautomountServiceAccountTokenenableServiceLinks"
    "volumesemptyDirsizeLimitmediumpersistentVolumeClaimclaimNameconfigMapsecretsecretNamedefaultModeitems"
    "volumeMountsmountPathreadOnlysubPathenvvalueFromsecretKeyRefconfigMapKeyReffieldReffieldPathkeyoptional"
    "startupProbelivenessProbereadinessProbehttpGetpathportschemeHTTPtcpSockettimeoutSecondsperiodSeconds"
    "successThresholdfailureThresholdinitialDelaySecondsexeccommandargs"
    "portscontainerPortprotocolTCPhttpmetrics"
    "resourceslimitsrequestscpumemoryephemeral-storage"
    "terminationMessagePath/dev/termination-logterminationMessagePolicyFileimagePullPolicyIfNotPresentimage"
    "securityContextrunAsNonRootrunAsUserrunAsGroupfsGroupallowPrivilegeEscalationreadOnlyRootFilesystem"
    "capabilitiesdropALLseccompProfileRuntimeDefaultprivilegedfalsetrue"
    "containersinitContainerstemplatespecselectormatchLabelsmatchExpressions"
    "ownerReferencesblockOwnerDeletioncontrolleruidannotations"
    "app.kubernetes.io/part-ofapp.kubernetes.io/managed-by";
constexpr std::string_view kKubernetesMostCommon =
    "app.kubernetes.io/componentapp.kubernetes.io/instanceapp.kubernetes.io/name"
    "apiVersionapps/v1v1kindDeploymentStatefulSetServicemetadatanamenamespacelabels"
    "resourceVersiongenerationcreationTimestamp";

// The dictionary both directions use; replaced only by
// set_compression_vocabulary(), under both directions' locks.
std::string& dictionary() {
  static std::string words = std::string(kKubernetesWords) + std::string(kKubernetesMostCommon);
  return words;
}

// Raw deflate (no zlib header): the checksum would be computed over the
// dictionary and the object on every pack and unpack, for data that never
// leaves memory.
constexpr int kLevel = Z_BEST_SPEED;  // objects 7 % larger than at the default level (runtime_cache_bench)

class Deflater {
 public:
  Deflater() {
    if (deflateInit2(&z_, kLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2 failed");
    }
  }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::vector<std::uint8_t> run(std::span<const std::uint8_t> data) {
    deflateReset(&z_);
    const std::string& words = dictionary();
    deflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(words.data()), static_cast<uInt>(words.size()));
    std::vector<std::uint8_t> out(deflateBound(&z_, static_cast<uLong>(data.size())));
    z_.next_in = const_cast<Bytef*>(data.data());
    z_.avail_in = static_cast<uInt>(data.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
    out.resize(out.size() - z_.avail_out);
    out.shrink_to_fit();
    return out;
  }

 private:
  z_stream z_{};
};

class Inflater {
 public:
  Inflater() {
    if (inflateInit2(&z_, -15) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  std::vector<std::uint8_t> run(std::span<const std::uint8_t> data) {
    inflateReset(&z_);
    const std::string& words = dictionary();
    if (inflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(words.data()), static_cast<uInt>(words.size())) !=
        Z_OK) {
      throw std::runtime_error("inflateSetDictionary failed");
    }
    std::vector<std::uint8_t> out(data.size() * 4 + 256);
    z_.next_in = const_cast<Bytef*>(data.data());
    z_.avail_in = static_cast<uInt>(data.size());
    std::size_t produced = 0;
    for (;;) {
      z_.next_out = out.data() + produced;
      z_.avail_out = static_cast<uInt>(out.size() - produced);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      produced = out.size() - z_.avail_out;
      if (rc == Z_STREAM_END) break;
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) throw std::runtime_error("inflate: truncated input");
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("inflate: corrupt input");
      if (z_.avail_out == 0) out.resize(out.size() * 2);
    }
    out.resize(produced);
    return out;
  }

 private:
  z_stream z_{};
};

std::mutex& deflate_mutex() {
  static std::mutex mu;
  return mu;
}

std::mutex& inflate_mutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

void set_compression_vocabulary(std::string_view words) {
  std::scoped_lock lock(deflate_mutex(), inflate_mutex());
  dictionary() = std::string(kKubernetesWords) + std::string(words) + std::string(kKubernetesMostCommon);
}

std::vector<std::uint8_t> deflate_bytes(std::span<const std::uint8_t> data) {
  static Deflater deflater;
  std::lock_guard lock(deflate_mutex());
  return deflater.run(data);
}

std::vector<std::uint8_t> inflate_bytes(std::span<const std::uint8_t> data) {
  static Inflater inflater;
  std::lock_guard lock(inflate_mutex());
  return inflater.run(data);
}

}  // namespace sot::runtime
