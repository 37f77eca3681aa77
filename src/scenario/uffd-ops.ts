/** userfaultfd and khugepaged operations of the scenario vocabulary. PLACEHOLDER until they land. */
export {};
